// The package version, kept in one place (package.json is the source; a test checks they agree).
export const VERSION = '0.1.0';
