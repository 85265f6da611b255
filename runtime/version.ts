/** The package version, written into every compiled model (a test keeps it equal to package.json). */
export const VERSION = '0.1.0';
