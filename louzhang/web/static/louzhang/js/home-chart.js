// Households by area on the commander's home page (ECharts, vendored).
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("households-chart");
  var data = JSON.parse(document.getElementById("households-data").textContent);
  if (!el || !window.echarts) return;
  var chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    grid: { left: 8, right: 28, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: "value" },
    yAxis: { type: "category", data: data.labels, inverse: true },
    series: [{ type: "bar", data: data.households, itemStyle: { color: "#1f5fa8" } }],
    tooltip: { trigger: "axis" }
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
