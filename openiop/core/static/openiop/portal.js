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
  // Portal measures (forms with data-progress-url): picking a critical answer (PHQ-9 item 9,
  // CORE-10 item 6, any C-SSRS yes; the server lists them in data-critical-choices) sends the
  // answers so far at once, so the care team is told even if the form is never sent; leaving
  // the page unsent (pagehide, or the tab hidden) sends them as a draft with sendBeacon. The
  // form's idempotency key ties both to the later submission: one assessment, one event.
  // Without script the form is simply posted as before.
  function progressForm() {
    return document.querySelector("form[data-progress-url]");
  }

  function answered(form) {
    return form.querySelector("input[type=radio]:checked") !== null;
  }

  function showTold() {
    var panel = document.querySelector("[data-told-panel]");
    if (!panel || !panel.hidden) { return; }
    panel.hidden = false;
    panel.setAttribute("tabindex", "-1");
    panel.focus({ preventScroll: true });
  }

  function sendProgress(form, attempt) {
    fetch(form.getAttribute("data-progress-url"), {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (RETRY_STATUS.indexOf(response.status) !== -1) { throw new Error("retry"); }
      return response.json();
    }).then(function (body) {
      if (body && body.safety_event) { showTold(); }
    }).catch(function () {
      if (attempt < RETRY_SECONDS.length) {
        window.setTimeout(function () { sendProgress(form, attempt + 1); }, RETRY_SECONDS[attempt] * 1000);
      }
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "radio") { return; }
    var form = input.form;
    if (!form || !form.hasAttribute("data-progress-url") || !window.fetch) { return; }
    var critical = (form.getAttribute("data-critical-choices") || "").split(" ");
    if (critical.indexOf(input.name + ":" + input.value) !== -1) { sendProgress(form, 0); }
  });

  var leftSent = false;
  function saveOnLeave() {
    var form = progressForm();
    if (!form || leftSent || form.getAttribute("aria-busy") === "true" || !answered(form)) { return; }
    var url = form.getAttribute("data-progress-url");
    var sent = false;
    if (navigator.sendBeacon) { sent = navigator.sendBeacon(url, new FormData(form)); }
    if (!sent && window.fetch) {
      fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin", keepalive: true });
    }
    leftSent = true;
  }
  window.addEventListener("pagehide", saveOnLeave);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { saveOnLeave(); } else { leftSent = false; }
  });
  // A form being sent is not left unsent: no draft races the submission it belongs to.
  document.addEventListener("submit", function (event) {
    if (event.target instanceof HTMLFormElement && event.target.hasAttribute("data-progress-url")) {
      leftSent = true;
    }
  });
  // Answers changed after a save while hidden are saved again on the next leave.
  document.addEventListener("change", function () { leftSent = false; });

  // Pages shown after sending are not in the browser's cache: going back reloads them.
  window.addEventListener("popstate", function () { window.location.reload(); });
})();
