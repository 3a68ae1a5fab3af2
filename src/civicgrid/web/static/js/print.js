// Print pages (派遣单 / 处置单 / 案卷): the toolbar's 打印 button opens the browser's print dialog.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
