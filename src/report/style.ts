// The report's stylesheet, inlined into every report (no external CSS or fonts: the file opens from disk
// with no network). System fonts, dark text on a light page, a grid that holds 1 or 50 images.

export const REPORT_CSS = `
:root {
  --fg: #1c2230; --muted: #5d6677; --line: #e2e6ed; --bg: #f4f6f9; --card: #fff;
  --accent: #2f6fde; --accent-soft: #e9f0fd; --bar: #e7ebf1;
  --bad: #b3261e; --bad-soft: #fdf0ef; --warn: #7a5200; --warn-soft: #fff6dc;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
}
main { max-width: 1320px; margin: 0 auto; padding: 28px 24px 40px; }
h1, h2, h3 { margin: 0; line-height: 1.25; }
h1 { font-size: 22px; font-weight: 650; overflow-wrap: anywhere; }
h2 { font-size: 16px; font-weight: 650; overflow-wrap: anywhere; }
h3 { font-size: 13px; font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
.muted { color: var(--muted); font-weight: 400; }
.sub { color: var(--muted); margin-top: 2px; }

.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  box-shadow: 0 1px 2px rgba(20, 30, 50, .05); padding: 18px 20px; margin-top: 16px;
}
.report-head { padding: 22px 24px; margin-top: 0; }
.meta { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 12px 32px; margin-top: 16px; }
.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); align-content: start; gap: 6px 14px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.layers { display: flex; flex-wrap: wrap; gap: 4px; margin: 0; padding: 0; list-style: none; }
.layers li { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 0 6px; }
.options { border-collapse: collapse; width: 100%; }
.options th, .options td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
.options th { color: var(--muted); font-weight: 400; white-space: nowrap; width: 1%; }
.options td { overflow-wrap: anywhere; }
.options caption { text-align: left; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; padding-bottom: 4px; }
.summary-row { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 28px; margin-top: 18px; padding-top: 14px; border-top: 1px solid var(--line); }
.summary { background: var(--accent-soft); color: #173f8a; border-radius: 999px; padding: 3px 12px; font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 22px; color: var(--muted); font-size: 12.5px; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.legend .nowrap { white-space: nowrap; }
.cbar { display: inline-block; width: 140px; height: 10px; border-radius: 2px; border: 1px solid rgba(0, 0, 0, .15); }
.box-sample { display: inline-block; width: 20px; height: 13px; border: 2px solid #fff; outline: 1.5px solid #111; border-radius: 1px; background: #9aa7bd; }

.toc { display: flex; flex-wrap: wrap; gap: 6px; margin: 16px 0 0; padding: 0; list-style: none; }
.toc a {
  display: inline-block; max-width: 260px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  padding: 2px 10px; border-radius: 999px; border: 1px solid var(--line); background: var(--card);
  color: var(--fg); text-decoration: none; font-size: 12.5px;
}
.toc a:hover { border-color: var(--accent); }
.toc a.failed { color: var(--bad); border-color: #efc4c0; background: var(--bad-soft); }

.image-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; margin-bottom: 14px; }
.image-body { display: grid; grid-template-columns: 230px minmax(0, 1fr); gap: 24px; }
.input img, .no-image { display: block; width: 100%; height: auto; border-radius: 6px; border: 1px solid var(--line); }
.no-image { aspect-ratio: 4 / 3; display: grid; place-items: center; color: var(--muted); background: var(--bg); font-size: 12px; }
.preds-title { margin: 14px 0 6px; }
.preds { list-style: none; margin: 0; padding: 0; display: grid; gap: 7px; }
.preds li { display: grid; grid-template-columns: minmax(0, 1fr) auto; column-gap: 8px; font-size: 13px; }
.plabel { overflow-wrap: anywhere; }
.pval { font-variant-numeric: tabular-nums; color: var(--muted); white-space: nowrap; }
.pbar { grid-column: 1 / -1; height: 6px; background: var(--bar); border-radius: 3px; overflow: hidden; margin-top: 2px; }
.pbar span { display: block; height: 100%; background: var(--accent); border-radius: 3px; }
.preds li:first-child .pval { color: var(--fg); font-weight: 600; }

.target + .target { margin-top: 18px; padding-top: 16px; border-top: 1px dashed var(--line); }
.target h3 { font-size: 14px; margin-bottom: 10px; overflow-wrap: anywhere; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 230px)); gap: 16px; }
.panel { margin: 0; min-width: 0; }
.panel figcaption { font-weight: 600; font-size: 13px; margin-bottom: 5px; overflow-wrap: anywhere; }
.frame { position: relative; line-height: 0; }
.frame img { display: block; width: 100%; height: auto; border-radius: 4px; }
.frame svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: visible; pointer-events: none; }
.det-label {
  position: absolute; transform: translateY(-100%); max-width: 100%; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; font-size: 11px; line-height: 1.35; font-weight: 600; padding: 0 4px; border-radius: 2px 2px 0 0;
  box-shadow: 0 0 0 1px #111; pointer-events: none;
}
.det-label.inside { transform: none; border-radius: 0 0 2px 2px; }
.stats { margin-top: 5px; font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.note { margin-top: 5px; font-size: 12px; color: var(--warn); background: var(--warn-soft); border-radius: 4px; padding: 3px 7px; overflow-wrap: anywhere; }
.empty { color: var(--muted); }

.caption-text { font-size: 16px; margin: 0 0 12px; }
.qa { font-size: 15px; margin: 0 0 12px; }
.caption-strip + .caption-strip { margin-top: 14px; }
.caption-strip h4 { font-size: 13px; margin: 0 0 6px; }
.words { display: grid; grid-template-columns: repeat(auto-fill, minmax(96px, 120px)); gap: 10px; }
.word { margin: 0; min-width: 0; }
.word img { display: block; width: 100%; height: auto; border-radius: 4px; }
.word figcaption { text-align: center; font-size: 14px; font-weight: 600; margin-top: 4px; overflow-wrap: anywhere; }

.failed-card { border-left: 4px solid var(--bad); }
.error { margin: 0; color: var(--bad); overflow-wrap: anywhere; }
.error code { font-weight: 600; }
.hint { margin: 6px 0 0; color: var(--muted); overflow-wrap: anywhere; }

footer { margin-top: 24px; text-align: center; color: var(--muted); font-size: 12px; }

@media (max-width: 820px) {
  main { padding: 16px 12px 32px; }
  .meta { grid-template-columns: minmax(0, 1fr); }
  .image-body { grid-template-columns: minmax(0, 1fr); }
  .input { max-width: 320px; }
  .panels { grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); }
}
@media print {
  body { background: #fff; }
  .card { box-shadow: none; break-inside: avoid; }
  .toc { display: none; }
}
`;
