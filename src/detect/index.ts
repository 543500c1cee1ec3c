// Public API of detection: decoders for dense and YOLO output layouts, their in-graph score heads,
// NMS and box geometry. Pure and platform-neutral.

export { boxIou, pixelBox, type Size, toOriginalPixels } from './box.ts';
export {
  DECODER_IDS,
  DECODERS,
  type DecoderId,
  decoderById,
  decoderTableMarkdown,
  isDecoderId,
} from './decoders.ts';
export { type DetectOptions, detectRows } from './detect.ts';
export { fastestdet } from './fastestdet.ts';
export { DEFAULT_IOU_THRESHOLD, nms } from './nms.ts';
export type { Box, DecodeOptions as DetectionDecodeOptions, Decoder, Detection, Fit } from './types.ts';
export { yolov5, yolov8 } from './yolo.ts';
