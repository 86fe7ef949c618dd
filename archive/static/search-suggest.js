// Autocomplete for the full-text search box: titles, archive numbers and names the reader may see.
(function () {
  var box = document.querySelector("input[data-suggest]");
  if (!box) return;
  var list = document.getElementById(box.getAttribute("list"));
  var timer = null;
  box.addEventListener("input", function () {
    clearTimeout(timer);
    var prefix = box.value.trim();
    if (prefix.length < 1) return;
    timer = setTimeout(function () {
      fetch(box.dataset.suggest + "?q=" + encodeURIComponent(prefix), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          list.replaceChildren.apply(list, items.map(function (item) {
            var option = document.createElement("option");
            option.value = item.text;
            return option;
          }));
        });
    }, 200);
  });
})();
