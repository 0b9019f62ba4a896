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
  // Phones: a citation card shows its quotes; its passage is folded until tapped (the sources
  // block is re-rendered after every answer, so new cards are folded as they appear).
  const phone = window.matchMedia("(max-width: 640px)");
  const fold = () => {
    if (!phone.matches) return;
    for (const d of document.querySelectorAll("#answer-panel details.cite-context[open]:not([data-folded])")) {
      d.open = false;
      d.dataset.folded = "1";
    }
  };
  new MutationObserver(fold).observe(document.body, { childList: true, subtree: true });
}
