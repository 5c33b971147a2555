/** What the page needs to know from the server, written into its `<body>` as data attributes. */
export interface DashboardPageSettings {
  /** The page's own URL path (with any global prefix), without a trailing slash. */
  base: string;
  readOnly: boolean;
  pollIntervalMs: number;
  chartWindowMs: number;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character]);
}

/** The dashboard's HTML: a shell the script fills from `<base>/api/status`. */
export function dashboardPage(settings: DashboardPageSettings): string {
  const base = escapeHtml(settings.base);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Redstream</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}/dashboard.css">
</head>
<body data-base="${base}" data-read-only="${String(settings.readOnly)}" data-poll-ms="${settings.pollIntervalMs}" data-chart-window-ms="${settings.chartWindowMs}">
<header>
<h1>Redstream</h1>
<span class="mode" id="mode">${settings.readOnly ? 'read-only' : 'actions enabled'}</span>
<span class="state" id="state" role="status">loading…</span>
</header>
<main id="streams"></main>
<noscript>This page needs JavaScript; the same data is at <a href="${base}/api/status">${base}/api/status</a>.</noscript>
<script src="${base}/dashboard.js"></script>
</body>
</html>
`;
}
