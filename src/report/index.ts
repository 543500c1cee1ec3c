// The HTML report (platform-neutral). Writing it to disk is Node-only and lives in write-node.ts.

export { renderReport } from './html.ts';
export { failedReportImage, PANEL_MAX_SIDE, reportImage, reportPanel, type ToDataUrl } from './panels.ts';
export type {
  ReportBox,
  ReportData,
  ReportDetection,
  ReportImage,
  ReportModel,
  ReportPanel,
  ReportPrediction,
  ReportTarget,
} from './types.ts';
