// A link to a criterion (#c-I.D) unfolds the rules of the conditions under it.
(function () {
  function unfold() {
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) target.querySelectorAll("details").forEach(function (d) { d.open = true; });
  }
  window.addEventListener("hashchange", unfold);
  unfold();
})();
