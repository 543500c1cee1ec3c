// The browser entry point. For now the platform-neutral core; the onnxruntime-web runtime and
// canvas-based image decoding arrive with the web app.

export * from './core.ts';
