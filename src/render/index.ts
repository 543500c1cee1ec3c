// Render: colormaps, overlays, gradient display, display-size images and per-explanation images with
// their boxes at the model or the original size (platform-neutral). PNG output
// is Node-only and lives in png-node.ts, exported from the Node entry point rather than from here.

export {
  applyColormap,
  COLORMAP_IDS,
  COLORMAPS,
  type Colormap,
  type ColormapId,
  colormapIndex,
  DEFAULT_COLORMAP,
  getColormap,
  isColormapId,
} from './colormaps.ts';
export { deprocessImage, guidedGradCam, type ImageSize } from './deprocess.ts';
export { resizeForDisplay } from './display-size.ts';
export {
  DETECTION_COLORS,
  detectionColor,
  drawLabeledBox,
  type LabeledBox,
} from './draw.ts';
export {
  type DetectionEntry,
  type ExplanationEntry,
  type ImageCanvas,
  imageCanvas,
  type MapStats,
  mapStats,
  OVERLAY_SIZES,
  type OverlaySize,
  type RenderedExplanation,
  type RenderOptions,
  renderExplanation,
} from './explanation-images.ts';
export { tensorToImage } from './input-image.ts';
export { heatmapImage, type OverlayOptions, overlay } from './overlay.ts';
