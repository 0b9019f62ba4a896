() => {
  // [n] in an answer jumps to that answer's source card (opening its folded block first).
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a.cite-ref");
    if (!link) return;
    const id = (link.getAttribute("href") || "").replace(/^#/, "");
    const target = id && document.getElementById(id);
    if (!target) return;
    event.preventDefault();
    event.stopPropagation();
    for (let el = target.parentElement; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") el.open = true;
    }
    const card = target.closest(".cite-card") || target;
    card.scrollIntoView({ block: "start", behavior: "instant" });
    card.classList.add("flash");
    setTimeout(() => card.classList.remove("flash"), 1200);
  }, true);
  // Typing in a picker filters its list instead of appending to the current choice.
  document.addEventListener("focusin", (event) => {
    const input = event.target;
    if (input && input.matches && input.matches("#section input, #doc input, #chapter input")) {
      requestAnimationFrame(() => input.select());
    }
  });
}
