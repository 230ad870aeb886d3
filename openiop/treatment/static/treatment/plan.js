// A plan form posted with errors answers 422 with the tree and its messages: show them.
// (htmx 2 does not swap error responses by default.) No inline script: the CSP forbids it.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
document.addEventListener("htmx:afterSwap", function (event) {
  var summary = document.querySelector("#plan-tree .error-summary");
  if (summary) { summary.focus(); }
});
