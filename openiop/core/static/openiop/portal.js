/* Participant portal: reliable form sending and the hours meter. No inline script (CSP).
 *
 * Forms marked data-reliable are sent with fetch. Each form carries an idempotency key
 * chosen when the page was drawn, so resending after a dropped connection can never store
 * an answer twice: the server replays its first answer for a key it has seen (REL-01).
 * While the phone is offline the answers stay in the form and sending is retried.
 */
(function () {
  "use strict";
  var RETRY_SECONDS = [1, 2, 4, 8, 15, 30];
  var RETRY_STATUS = [0, 408, 425, 429, 500, 502, 503, 504];

  function say(form, text) {
    var status = form.querySelector("[data-send-status]");
    if (status) { status.textContent = text; }
  }

  function setBusy(form, busy) {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = busy; });
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function showPage(html) {
    // Swap in the server's page (e.g. the form with its errors) without a second request.
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("main");
    var main = document.getElementById("main");
    if (!fresh || !main) { document.documentElement.innerHTML = doc.documentElement.innerHTML; return; }
    main.innerHTML = fresh.innerHTML;
    document.title = doc.title;
    // The answer (errors, the "saved" message, or the next page's heading) goes to the top of
    // the screen and gets the focus: the page would otherwise keep the scroll position of the
    // send button, with the answer out of sight above it (and a screen reader silent).
    var target = document.getElementById("error-summary") || document.getElementById("messages");
    if (!target) {
      target = main.querySelector("h1") || main;
      if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    }
    window.scrollTo(0, 0);
    target.focus({ preventScroll: true });
    initMeters();
  }

  function send(form, attempt) {
    say(form, attempt === 0 ? "Sending…" : "Sending again…");
    fetch(form.action || window.location.href, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      redirect: "follow",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (RETRY_STATUS.indexOf(response.status) !== -1) { throw new Error("retry"); }
      return response.text().then(function (html) {
        // After a redirect the page fetched is the next page (its one-time "saved" message
        // included): show it and move the address bar there, without a second request.
        if (response.redirected) { window.history.pushState({}, "", response.url); }
        setBusy(form, false);
        showPage(html);
      });
    }).catch(function () {
      if (attempt >= RETRY_SECONDS.length) {
        setBusy(form, false);
        say(form, "Could not send. Your answers are still here: check your connection and press the button again.");
        return;
      }
      var wait = RETRY_SECONDS[attempt];
      say(form, "No connection. Your answers are kept; trying again in " + wait + " s.");
      window.setTimeout(function () { send(form, attempt + 1); }, wait * 1000);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-reliable")) { return; }
    if (!window.fetch || !window.FormData || !window.DOMParser) { return; } // plain post
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") { return; }
    setBusy(form, true);
    send(form, 0);
  });

  function initMeters() {
    document.querySelectorAll("[data-percent]").forEach(function (bar) {
      var value = Math.max(0, Math.min(100, parseInt(bar.getAttribute("data-percent"), 10) || 0));
      bar.style.width = value + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", initMeters);
  // "Find a skill": hides the skills whose name does not contain what is typed (chosen ones
  // stay visible); without script every skill is simply listed.
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-filter-checks")) { return; }
    var list = document.getElementById(box.getAttribute("data-filter-checks"));
    if (!list) { return; }
    var needle = box.value.trim().toLowerCase();
    list.querySelectorAll("label.check").forEach(function (label) {
      var input = label.querySelector("input");
      var match = !needle || label.textContent.toLowerCase().indexOf(needle) !== -1;
      label.hidden = !(match || (input && input.checked));
    });
  });
  // Pages shown after sending are not in the browser's cache: going back reloads them.
  window.addEventListener("popstate", function () { window.location.reload(); });
})();
