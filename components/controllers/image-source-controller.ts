import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { WidgetError } from '../shared/errors.js';
import type { ImageInput } from '../image/preprocess.js';

/** Where an image came from. */
export type ImageOrigin = 'child' | 'for' | 'file' | 'drop' | 'paste' | 'camera' | 'property';

export interface ImageSourceOptions {
  /** The id of an `<img>` or `<video>` elsewhere on the page (the `for` attribute), or empty. */
  forId: () => string;
  /** Least milliseconds between two frames taken from a playing video or the camera. */
  interval?: () => number;
  /**
   * A new image, or a new frame of a video (`live`). Encoded images (file, drop, paste) arrive as the
   * File; `<img>`, `<video>` and camera frames as the element, drawable at once.
   */
  onImage: (source: ImageInput, origin: ImageOrigin, live: boolean) => void;
  onError: (error: unknown) => void;
}

export type CameraState = 'off' | 'requesting' | 'on';

/**
 * Image acquisition for an element: a child `<img>`/`<video>` (light DOM) or one named by `for`, a file
 * picker, drag-and-drop and paste onto the host, and the camera on request. Videos and the camera give
 * a frame at most every `interval` ms while playing. Listeners exist only while the host is connected,
 * and the camera stops when it leaves the page.
 */
export class ImageSourceController implements ReactiveController {
  private readonly host: ReactiveControllerHost & HTMLElement;
  private readonly options: ImageSourceOptions;
  private watched?: HTMLImageElement | HTMLVideoElement;
  private watchedOrigin: ImageOrigin = 'child';
  private unwatch?: () => void;
  private children?: MutationObserver;
  private boundFor = '';
  private frameHandle = 0;
  private lastFrame = -Infinity;
  private stream?: MediaStream;
  /** Bumped on every camera start/stop, so a late permission answer does not start a stopped camera. */
  private cameraRun = 0;
  private _camera: CameraState = 'off';
  private _dragging = false;
  /** The camera's own video element, shown by the host as the preview while the camera is on. */
  readonly cameraVideo: HTMLVideoElement | undefined =
    typeof document === 'undefined' ? undefined : document.createElement('video');

  constructor(host: ReactiveControllerHost & HTMLElement, options: ImageSourceOptions) {
    this.host = host;
    this.options = options;
    host.addController(this);
    if (this.cameraVideo) {
      this.cameraVideo.muted = true;
      this.cameraVideo.playsInline = true;
      this.cameraVideo.setAttribute('part', 'camera-video');
      this.cameraVideo.setAttribute('aria-label', 'Camera view');
    }
  }

  get camera(): CameraState {
    return this._camera;
  }

  /** True while files are dragged over the host (for a drop highlight). */
  get dragging(): boolean {
    return this._dragging;
  }

  /** Where the watched `<img>`/`<video>` came from, if one is watched. */
  get watching(): ImageOrigin | undefined {
    return this.watched ? this.watchedOrigin : undefined;
  }

  hostConnected(): void {
    this.host.addEventListener('dragover', this.onDragOver);
    this.host.addEventListener('dragleave', this.onDragLeave);
    this.host.addEventListener('drop', this.onDrop);
    this.host.addEventListener('paste', this.onPaste);
    this.children = new MutationObserver(() => this.bind());
    this.children.observe(this.host, { childList: true });
    this.bind();
  }

  hostUpdate(): void {
    if (this.options.forId() !== this.boundFor) this.bind(); // `for` changed
  }

  hostDisconnected(): void {
    this.host.removeEventListener('dragover', this.onDragOver);
    this.host.removeEventListener('dragleave', this.onDragLeave);
    this.host.removeEventListener('drop', this.onDrop);
    this.host.removeEventListener('paste', this.onPaste);
    this.children?.disconnect();
    this.children = undefined;
    this.setWatched(undefined, 'child');
    this.boundFor = '';
    this.stopCamera();
  }

  /** Files chosen in the host's `<input type=file>` (its `change` event). */
  readonly onFileChange = (event: Event): void => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    if (file) this.takeFile(file, 'file');
    input.value = ''; // choosing the same file again still fires `change`
  };

  /** Ask for the camera (from a click, so the browser shows its permission prompt). */
  async startCamera(): Promise<void> {
    const video = this.cameraVideo;
    const media = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
    if (!video || !media?.getUserMedia) {
      this.options.onError(
        new WidgetError(
          'camera-unavailable',
          'This browser gives no camera access to this page (cameras need a page served over HTTPS). Choose an image file instead.',
          { forVisitor: true },
        ),
      );
      return;
    }
    this.stopCamera();
    const run = ++this.cameraRun;
    this.setCamera('requesting');
    let stream: MediaStream;
    try {
      stream = await media.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (err) {
      if (run !== this.cameraRun) return;
      this.setCamera('off');
      this.options.onError(cameraError(err));
      return;
    }
    if (run !== this.cameraRun || !this.host.isConnected) {
      stream.getTracks().forEach((t) => t.stop());
      return;
    }
    this.stream = stream;
    video.srcObject = stream;
    this.setCamera('on');
    this.setWatched(video, 'camera');
    try {
      await video.play();
    } catch (err) {
      if (run !== this.cameraRun) return;
      this.stopCamera();
      this.options.onError(
        new WidgetError(
          'camera-unavailable',
          `The camera started but its video cannot play: ${(err as Error).message}`,
          { cause: err },
        ),
      );
    }
  }

  stopCamera(): void {
    this.cameraRun++;
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = undefined;
    if (this.cameraVideo) this.cameraVideo.srcObject = null;
    this.setCamera('off');
    if (this.watched === this.cameraVideo) {
      this.setWatched(undefined, 'child');
      if (this.host.isConnected) this.bind(); // back to the child or `for` image
    }
  }

  /** Watch the child or `for` image/video (called when either may have changed). */
  private bind(): void {
    if (this._camera !== 'off') return; // the camera has the stage until it stops
    const id = this.options.forId();
    this.boundFor = id;
    let target: Element | null;
    let origin: ImageOrigin = 'child';
    if (id) {
      const root = this.host.getRootNode() as Document | ShadowRoot;
      target = root.getElementById?.(id) ?? null;
      origin = 'for';
      if (!(target instanceof HTMLImageElement || target instanceof HTMLVideoElement)) {
        this.setWatched(undefined, origin);
        if (!target && document.readyState === 'loading') {
          // Defined while the page is still parsing: the picture may come later in the document.
          document.addEventListener('DOMContentLoaded', () => this.host.isConnected && this.bind(), { once: true });
          return;
        }
        if (this.host.isConnected) {
          this.options.onError(
            new WidgetError('bad-image', `There is no <img> or <video> with id “${id}” on this page to classify.`),
          );
        }
        return;
      }
    } else {
      target = this.host.querySelector(':scope > img, :scope > video');
    }
    this.setWatched((target as HTMLImageElement | HTMLVideoElement | null) ?? undefined, origin);
  }

  private setWatched(el: HTMLImageElement | HTMLVideoElement | undefined, origin: ImageOrigin): void {
    if (el === this.watched) return;
    this.unwatch?.();
    this.unwatch = undefined;
    this.stopFrames();
    this.watched = el;
    this.watchedOrigin = origin;
    if (!el) return;
    const listen = (type: string, fn: () => void) => {
      el.addEventListener(type, fn);
      return () => el.removeEventListener(type, fn);
    };
    if (el instanceof HTMLImageElement) {
      const offs = [
        listen('load', () => this.options.onImage(el, origin, false)),
        listen('error', () =>
          this.options.onError(
            new WidgetError('bad-image', `The image “${el.currentSrc || el.src}” could not be loaded.`),
          ),
        ),
      ];
      this.unwatch = () => offs.forEach((off) => off());
      if (el.complete && el.naturalWidth) this.options.onImage(el, origin, false);
      else if (el.complete && el.getAttribute('src')) {
        this.options.onError(
          new WidgetError('bad-image', `The image “${el.currentSrc || el.src}” could not be loaded.`),
        );
      }
      return;
    }
    const frame = () => this.options.onImage(el, origin, false);
    const offs = [
      listen('loadeddata', frame),
      listen('seeked', frame),
      listen('play', () => this.startFrames(el, origin)),
      listen('pause', () => this.stopFrames()),
      listen('ended', () => this.stopFrames()),
      listen('error', () =>
        this.options.onError(
          new WidgetError('bad-image', `The video “${el.currentSrc || el.src}” could not be loaded.`),
        ),
      ),
    ];
    this.unwatch = () => offs.forEach((off) => off());
    if (el.readyState >= 2) frame();
    if (!el.paused && !el.ended) this.startFrames(el, origin);
  }

  /** Frames of a playing video, one per new video frame at most every `interval` ms. */
  private startFrames(video: HTMLVideoElement, origin: ImageOrigin): void {
    this.stopFrames();
    const rvfc = typeof video.requestVideoFrameCallback === 'function';
    const tick = () => {
      if (this.watched !== video) return;
      const now = performance.now();
      if (now - this.lastFrame >= (this.options.interval?.() ?? 100) && video.readyState >= 2) {
        this.lastFrame = now;
        this.options.onImage(video, origin, true);
      }
      this.frameHandle = rvfc ? video.requestVideoFrameCallback(tick) : requestAnimationFrame(tick);
    };
    this.frameHandle = rvfc ? video.requestVideoFrameCallback(tick) : requestAnimationFrame(tick);
    const cancel = rvfc ? (h: number) => video.cancelVideoFrameCallback(h) : cancelAnimationFrame;
    this.stopFrames = () => {
      cancel(this.frameHandle);
      this.stopFrames = () => {};
    };
  }

  private stopFrames: () => void = () => {};

  private setCamera(state: CameraState): void {
    if (this._camera === state) return;
    this._camera = state;
    this.host.requestUpdate();
  }

  private takeFile(file: File, origin: ImageOrigin): void {
    if (!file.type.startsWith('image/')) {
      this.options.onError(
        new WidgetError('bad-image', `“${file.name || 'The file'}” is not an image (${file.type || 'unknown type'}).`, {
          forVisitor: true,
        }),
      );
      return;
    }
    this.options.onImage(file, origin, false);
  }

  private readonly onDragOver = (e: DragEvent): void => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault(); // allows the drop
    e.dataTransfer.dropEffect = 'copy';
    if (!this._dragging) {
      this._dragging = true;
      this.host.requestUpdate();
    }
  };

  private readonly onDragLeave = (e: DragEvent): void => {
    // Leaving for a child of the host is not leaving the host.
    if (e.relatedTarget instanceof Node && this.host.contains(e.relatedTarget)) return;
    this._dragging = false;
    this.host.requestUpdate();
  };

  private readonly onDrop = (e: DragEvent): void => {
    const files = e.dataTransfer?.files;
    this._dragging = false;
    this.host.requestUpdate();
    if (!files?.length) return;
    e.preventDefault(); // the browser would open the file instead
    this.takeFile(files[0], 'drop');
  };

  private readonly onPaste = (e: ClipboardEvent): void => {
    const data = e.clipboardData;
    if (!data) return;
    // `files`, or file items (some browsers list a pasted image only among the items).
    let files = Array.from(data.files ?? []);
    if (!files.length)
      files = Array.from(data.items ?? [])
        .flatMap((item) => (item.kind === 'file' ? [item.getAsFile()!] : []))
        .filter(Boolean);
    if (!files.length) return; // pasted text: not ours
    e.preventDefault();
    this.takeFile(files.find((f) => f.type.startsWith('image/')) ?? files[0], 'paste');
  };
}

/** getUserMedia's DOMException → a specific, actionable error. */
function cameraError(err: unknown): WidgetError {
  const name = (err as { name?: string })?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new WidgetError(
      'camera-denied',
      'Camera access was denied. Allow the camera for this site in the browser’s address bar or settings, or choose an image file instead.',
      { cause: err, forVisitor: true },
    );
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
    return new WidgetError('camera-unavailable', 'No camera was found. Connect one, or choose an image file instead.', {
      cause: err,
      forVisitor: true,
    });
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return new WidgetError(
      'camera-unavailable',
      'The camera is in use by another application or could not start. Close it there and try again.',
      { cause: err, forVisitor: true },
    );
  }
  return new WidgetError(
    'camera-unavailable',
    `The camera could not start: ${(err as Error)?.message ?? String(err)}`,
    { cause: err },
  );
}
