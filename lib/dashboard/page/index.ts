export * from './dashboard-page.html';
export * from './dashboard-page.script';
export * from './dashboard-page.styles';
