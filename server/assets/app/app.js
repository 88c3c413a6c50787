// Progressive enhancement only: every page works without this file.
// A button with data-confirm asks before its form is sent (revoking, withdrawing, ending sessions).
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  var text = b && b.getAttribute("data-confirm");
  if (text && !window.confirm(text)) { e.preventDefault(); }
});
