// Progressive enhancement only: every page works without this file.
// A button with data-confirm asks before its form is sent (revoking, withdrawing, ending sessions).
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  var text = b && b.getAttribute("data-confirm");
  if (text && !window.confirm(text)) { e.preventDefault(); }
});
// The capture form's "When" is read in the browser's own time zone when it says which.
document.querySelectorAll("input[data-tz]").forEach(function (i) {
  if (!i.value) { i.value = String(-new Date().getTimezoneOffset()); }
});
