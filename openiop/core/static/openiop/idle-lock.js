// AUTH-05 lock screen: after the idle limit with no keyboard, pointer or touch activity,
// replace the page with the lock screen (which also ends the server session), so clinical
// data never stays on an unattended screen. The server enforces the same limit itself.
(function () {
  "use strict";
  var body = document.body;
  var seconds = body && parseInt(body.dataset.idleSeconds || "0", 10);
  var lockUrl = body && body.dataset.lockUrl;
  if (!seconds || !lockUrl) { return; }
  var last = Date.now();
  function touch() { last = Date.now(); }
  ["keydown", "pointerdown", "pointermove", "touchstart", "scroll", "wheel"].forEach(function (name) {
    window.addEventListener(name, touch, { passive: true });
  });
  document.addEventListener("htmx:afterRequest", touch);
  window.setInterval(function () {
    if (Date.now() - last >= seconds * 1000) { window.location.replace(lockUrl); }
  }, 5000);
})();
