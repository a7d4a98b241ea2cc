// The commanders' dashboard: the trend of the figures and the treemap of the child areas
// (ECharts, vendored, SVG), drawn from the page's JSON block (#dashboard-data) and drawn again
// whenever HTMX brings fresh figures into #dashboard-live. No inline script: the page's CSP.
(function () {
  "use strict";

  var charts = [];
  // the trend's lines the commander chose (figure keys), kept across refreshes
  var chosen = null;

  function readData() {
    var block = document.getElementById("dashboard-data");
    return block ? JSON.parse(block.textContent) : null;
  }

  function trend(el, data) {
    var chart = echarts.init(el, null, { renderer: "svg" });
    var keyOf = {};
    var selected = {};
    data.figures.forEach(function (f) {
      keyOf[f.label] = f.key;
      selected[f.label] = chosen ? chosen.indexOf(f.key) >= 0 : f.shown;
    });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", renderMode: "richText", confine: true },
      legend: { type: "scroll", bottom: 0, selected: selected },
      grid: { left: 8, right: 16, top: 16, bottom: 48, containLabel: true },
      xAxis: { type: "category", boundaryGap: false,
               data: data.days.map(function (day) { return day.slice(5); }) },
      yAxis: { type: "value", minInterval: 1 },
      series: data.figures.map(function (f) {
        return { name: f.label, type: "line", data: f.values, symbolSize: 5 };
      })
    });
    chart.on("legendselectchanged", function (e) {
      chosen = Object.keys(e.selected).filter(function (label) { return e.selected[label]; })
        .map(function (label) { return keyOf[label]; });
    });
    return chart;
  }

  // white-blue for no signal of risk, light to dark red for more
  function colour(risk, most) {
    if (!risk) return "#a9c4e4";
    var t = Math.min(1, risk / most);
    var from = [244, 199, 195], to = [179, 38, 30];
    var rgb = from.map(function (c, i) { return Math.round(c + (to[i] - c) * t); });
    return "rgb(" + rgb.join(",") + ")";
  }

  function treemap(el, data) {
    var chart = echarts.init(el, null, { renderer: "svg" });
    var most = Math.max.apply(null, data.children.map(function (c) { return c.risk; }).concat([1]));
    chart.setOption({
      animation: false,
      tooltip: {
        renderMode: "richText", confine: true,
        formatter: function (p) {
          var c = p.data && p.data.child;
          if (!c) return "";
          return c.name + "\n" + data.labels.households + " " + c.households + "\n" + data.labels.risk + " " + c.risk;
        }
      },
      series: [{
        type: "treemap", roam: false, nodeClick: false, breadcrumb: { show: false },
        left: 0, top: 0, right: 0, bottom: 0,
        label: { show: true, formatter: "{b}" },
        itemStyle: { borderColor: "#fff", borderWidth: 2, gapWidth: 2 },
        data: data.children.map(function (c) {
          // sized by households: an area without any gets the smallest box, still to be tapped
          return { name: c.name, value: Math.max(c.households, 1), child: c,
                   itemStyle: { color: colour(c.risk, most) },
                   label: { color: c.risk && c.risk / most > 0.4 ? "#fff" : "#1b1f24" } };
        })
      }]
    });
    chart.on("click", function (p) {
      if (p.data && p.data.child) window.location.assign(p.data.child.url);
    });
    return chart;
  }

  function draw() {
    charts.forEach(function (c) { c.dispose(); });
    charts = [];
    var data = readData();
    if (!data || !window.echarts) return;
    var line = document.getElementById("trend-chart");
    if (line) charts.push(trend(line, data));
    var boxes = document.getElementById("children-chart");
    if (boxes && data.children.length) charts.push(treemap(boxes, data));
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && e.target.id === "dashboard-live") draw();
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
