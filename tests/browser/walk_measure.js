// What the page walk (test_walk.py) measures in each page: sideways overflow, touch
// targets smaller than MIN_TAP px (a checkbox or radio through its label), images not loaded.
(async () => {
  for (const img of document.images) img.loading = "eager";
  window.scrollTo(0, document.body.scrollHeight);
  await Promise.all([...document.images].map(img => img.complete ? null :
    new Promise(ok => { img.addEventListener("load", ok); img.addEventListener("error", ok);
                        setTimeout(ok, 3000); })));
  window.scrollTo(0, 0);
  const shown = el => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"; };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.name ? "[name=" + el.name + "]" : "") + " '" + (el.innerText || el.value || "").trim().slice(0, 30) + "'";
  const small = [];
  for (const el of document.querySelectorAll("button, .btn, input:not([type=hidden]), select, textarea")) {
    if (!shown(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.matches("input[type=checkbox], input[type=radio]")) {
      const label = el.closest("label") || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (label) box = label.getBoundingClientRect();
    }
    if (Math.min(box.width, box.height) < MIN_TAP - 0.5)
      small.push(name(el) + " " + Math.round(box.width) + "×" + Math.round(box.height));
  }
  const broken = [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);
  return {overflow: document.documentElement.scrollWidth - window.innerWidth, small, broken};
})
