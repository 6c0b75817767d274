// Starts the page: runs after dashboard.js and every pages/*.js, so every page is registered before the first
// route is shown.
if (!signedIn()) { showView(); askSignIn(); } else refreshAll();
setInterval(refreshFeed, FEED_EVERY_MS);
setInterval(refreshCharts, CHARTS_EVERY_MS);
