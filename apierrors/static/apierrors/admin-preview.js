// Refreshes the error response preview on the change page from the form as it is typed.
// The server renders the fragment (escaped) with the same code as real responses.
"use strict";
(function () {
  function init() {
    const box = document.getElementById("apierrors-preview");
    const form = box && box.closest("form");
    const url = box && box.dataset.previewUrl;
    if (!form || !url) {
      return;
    }
    const target = box.querySelector(".apierrors-preview-body");
    let timer = null;
    let sequence = 0;
    function refresh() {
      const mine = ++sequence;
      fetch(url, {method: "POST", body: new FormData(form), credentials: "same-origin",
                  headers: {"X-Requested-With": "XMLHttpRequest"}})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          // Only the newest answer is shown, whatever order the answers arrive in.
          if (html !== null && mine === sequence) {
            const open = Array.from(target.querySelectorAll("details[open]"))
              .map(function (d) { return d.dataset.language; });
            target.innerHTML = html;
            target.querySelectorAll("details").forEach(function (d) {
              d.open = open.includes(d.dataset.language);
            });
          }
        })
        .catch(function () {});
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    document.addEventListener("formset:removed", later);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
