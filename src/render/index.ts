// Render: colormaps, overlays, gradient display and display-size images (platform-neutral). PNG output
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
export { heatmapImage, type OverlayOptions, overlay } from './overlay.ts';
