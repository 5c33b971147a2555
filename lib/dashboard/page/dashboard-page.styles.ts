/** The page's style sheet, served as `<path>/dashboard.css`. */
export const DASHBOARD_STYLES = `
:root { color-scheme: light dark; --fg: #1d2433; --muted: #667085; --bg: #f6f7f9; --card: #fff; --line: #e1e4ea;
  --accent: #c0392b; --ok: #1e8e3e; --warn: #b26a00; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e8ec; --muted: #98a2b3; --bg: #14171c; --card: #1c2027; --line: #2c323c; --accent: #ff6b5b;
    --ok: #5bd17a; --warn: #f0b54a; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--card); }
h1 { margin: 0; font-size: 20px; color: var(--accent); }
.mode { font-size: 12px; padding: 2px 8px; border-radius: 10px; border: 1px solid var(--line); color: var(--muted); }
.state { margin-left: auto; color: var(--muted); font-variant-numeric: tabular-nums; }
.state.error { color: var(--accent); }
main { padding: 16px 24px; display: grid; gap: 16px; }
.empty { color: var(--muted); }
section.stream { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; }
section.stream h2 { margin: 0 0 8px; font-size: 16px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.summary { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 0 0 10px; }
.summary div { display: flex; flex-direction: column; }
.summary dt { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.summary dd { margin: 0; font-size: 18px; font-variant-numeric: tabular-nums; }
.summary dd.bad { color: var(--accent); }
.columns { display: grid; grid-template-columns: minmax(0, 3fr) minmax(280px, 2fr); gap: 18px; align-items: start; }
@media (max-width: 900px) { .columns { grid-template-columns: 1fr; } }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 500; }
td.num, th.num { text-align: right; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.active { color: var(--ok); }
.inactive { color: var(--warn); }
.chart { width: 100%; height: auto; display: block; }
.chart .axis { stroke: var(--line); }
.chart text { fill: var(--muted); font-size: 10px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: var(--muted); }
.legend svg { vertical-align: middle; margin-right: 4px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-top: 8px; padding-top: 8px; border-top: 1px dashed var(--line); }
.actions input, .actions select { font: inherit; padding: 3px 6px; }
.actions input { width: 16em; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
button { font: inherit; padding: 3px 10px; cursor: pointer; }
.notice { font-size: 12px; color: var(--muted); }
.notice.error { color: var(--accent); }
`;
