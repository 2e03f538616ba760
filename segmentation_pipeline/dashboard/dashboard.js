"use strict";

const payload = JSON.parse(document.getElementById("dashboard-data").textContent);
const tables = Object.fromEntries(Object.entries(payload.tables).map(([name, table]) => [name, records(table)]));
const SEGMENTS = payload.segments;
const OTHER_COLOR = "#9aa5b1";
const ALL_COLOR = "#3e4c59";
const FADED_COLOR = "#d9dee4";
const BAND_COLORS = { Low: "#59a14f", Medium: "#edc948", High: "#e15759" };
const RATE_COLUMN = /(rate|probability|risk|share)$/;
const DASH = "—";
const ACRONYMS = new Set(["auc", "clv", "id", "rfm", "roc"]);

const state = {
  page: "overview",
  segment: "",
  campaign: "",
  search: "",
  sortColumn: "",
  sortDescending: false,
  customerId: "",
};

// ---------- data ----------

function records({ columns, rows }) {
  return rows.map((row) => Object.fromEntries(columns.map((column, index) => [column, row[index]])));
}

function kindsOf(tableName) {
  const { columns, kinds } = payload.tables[tableName];
  return Object.fromEntries(columns.map((column, index) => [column, kinds[index]]));
}

function forSegment(rows) {
  return state.segment ? rows.filter((row) => row.segment === state.segment) : rows;
}

function sumBy(rows, keyOf, fields) {
  const groups = new Map();
  for (const row of rows) {
    const key = keyOf(row);
    const sums = groups.get(key) ?? Object.fromEntries(fields.map((field) => [field, 0]));
    for (const field of fields) sums[field] += row[field] ?? 0;
    groups.set(key, sums);
  }
  return groups;
}

function ratio(numerator, denominator) {
  return denominator > 0 ? numerator / denominator : null;
}

function distinct(values) {
  return [...new Set(values)];
}

function segmentsIn(rows) {
  const present = new Set(rows.map((row) => row.segment));
  return SEGMENTS.filter((segment) => present.has(segment));
}

function segmentColor(name) {
  return payload.segmentColors[name] ?? OTHER_COLOR;
}

function focusColor(name) {
  return !state.segment || state.segment === name ? segmentColor(name) : FADED_COLOR;
}

function shiftDay(day, days) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function translucent(hex, alpha) {
  const [red, green, blue] = [1, 3, 5].map((start) => parseInt(hex.slice(start, start + 2), 16));
  return `rgba(${red}, ${green}, ${blue}, ${alpha})`;
}

// ---------- formatting ----------

const integerFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const percentFormat = new Intl.NumberFormat("en-US", {
  style: "percent",
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});
const significantFormat = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 });

function formatInteger(value) {
  return value == null ? DASH : integerFormat.format(value);
}

function formatDecimal(value) {
  return value == null ? DASH : decimalFormat.format(value);
}

function formatPercent(value) {
  return value == null ? DASH : percentFormat.format(value);
}

function formatSignificant(value) {
  return value == null ? DASH : significantFormat.format(value);
}

function formatCell(value, kind, column) {
  if (value == null) return DASH;
  if (kind === "flag") return value ? "Yes" : "No";
  if (kind === "count") return formatInteger(value);
  if (kind === "amount") return RATE_COLUMN.test(column) ? formatPercent(value) : formatDecimal(value);
  return String(value);
}

function humanize(name) {
  const words = name.split(/[_ ]+/).map((word) => (ACRONYMS.has(word.toLowerCase()) ? word.toUpperCase() : word));
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ---------- drawing ----------

const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
const AXIS = { gridcolor: "#eceff3", zeroline: false, automargin: true, linecolor: "#cbd2d9" };
const BASE_LAYOUT = {
  font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif", size: 12, color: "#1f2933" },
  margin: { t: 12, r: 16, b: 40, l: 56 },
  paper_bgcolor: "rgba(0,0,0,0)",
  plot_bgcolor: "rgba(0,0,0,0)",
  hoverlabel: { bgcolor: "#ffffff", bordercolor: "#cbd2d9", font: { color: "#1f2933" } },
  legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
  showlegend: false,
};

function container(testId) {
  return document.querySelector(`[data-testid="${testId}"]`);
}

function plot(testId, traces, layout = {}) {
  const element = container(testId);
  if (element.classList.contains("is-empty")) {
    element.classList.remove("is-empty");
    element.replaceChildren();
  }
  const merged = {
    ...BASE_LAYOUT,
    ...layout,
    xaxis: { ...AXIS, ...layout.xaxis },
    yaxis: { ...AXIS, ...layout.yaxis },
  };
  Plotly.react(element, traces, merged, PLOT_CONFIG);
  return element;
}

function showEmpty(testId, message) {
  const element = container(testId);
  if (element.classList.contains("js-plotly-plot")) Plotly.purge(element);
  element.classList.add("is-empty");
  element.style.height = "";
  element.replaceChildren(noDataNote(message));
}

function noDataNote(message) {
  const note = document.createElement("p");
  note.className = "no-data";
  note.textContent = message;
  return note;
}

function emptyMessage(tableName) {
  return tables[tableName].length === 0 ? "No data yet." : `No data for ${state.segment || "this selection"}.`;
}

function onClickSelectSegment(element) {
  element.removeAllListeners("plotly_click");
  element.on("plotly_click", (event) => {
    const name = event.points[0].customdata;
    setSegment(state.segment === name ? "" : name);
  });
}

function showTable(testId, table) {
  const element = container(testId);
  element.classList.remove("is-empty");
  element.replaceChildren(table);
}

function buildTable(columns, rows, { onRowClick, isSelected } = {}) {
  const table = document.createElement("table");
  table.className = "data-table";
  const headRow = table.createTHead().insertRow();
  for (const column of columns) {
    const cell = document.createElement("th");
    cell.textContent = column.label;
    if (column.numeric) cell.className = "number";
    headRow.append(cell);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tableRow = body.insertRow();
    for (const column of columns) fillCell(tableRow.insertCell(), column, row);
    if (onRowClick) {
      tableRow.classList.add("clickable");
      tableRow.addEventListener("click", () => onRowClick(row));
    }
    if (isSelected?.(row)) tableRow.classList.add("is-selected");
  }
  return table;
}

function fillCell(cell, column, row) {
  if (column.numeric) cell.className = "number";
  if (column.swatch) {
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = segmentColor(row[column.key]);
    cell.append(swatch);
  }
  cell.append(column.format ? column.format(row[column.key], row) : String(row[column.key] ?? DASH));
}

// ---------- overview ----------

const ALL_DAYS = distinct(tables.daily_kpis.map((row) => row.day)).sort();
const LATEST_DAY = ALL_DAYS.at(-1);
const DAILY_FIELDS = ["active_customers", "orders", "revenue", "units", "returned_units", "repeat_orders"];

const KPIS = [
  {
    id: "active-customers",
    label: "Active customers per day",
    value: (t) => ratio(t.active_customers, t.days),
    format: formatInteger,
    change: "relative",
    upIsGood: true,
  },
  { id: "orders", label: "Orders", value: (t) => t.orders, format: formatInteger, change: "relative", upIsGood: true },
  {
    id: "revenue",
    label: "Revenue",
    value: (t) => t.revenue,
    format: formatInteger,
    change: "relative",
    upIsGood: true,
  },
  {
    id: "average-order-value",
    label: "Average order value",
    value: (t) => ratio(t.revenue, t.orders),
    format: formatDecimal,
    change: "relative",
    upIsGood: true,
  },
  {
    id: "return-rate",
    label: "Return rate",
    value: (t) => ratio(t.returned_units, t.units),
    format: formatPercent,
    change: "points",
    upIsGood: false,
  },
  {
    id: "repeat-rate",
    label: "Repeat-purchase rate",
    value: (t) => ratio(t.repeat_orders, t.orders),
    format: formatPercent,
    change: "points",
    upIsGood: true,
  },
];

const TRENDS = [
  {
    metric: "active_customers",
    testId: "chart-trend-active-customers",
    numerator: "active_customers",
    denominator: null,
  },
  { metric: "orders", testId: "chart-trend-orders", numerator: "orders", denominator: null },
  { metric: "revenue", testId: "chart-trend-revenue", numerator: "revenue", denominator: null },
  { metric: "return_rate", testId: "chart-trend-return-rate", numerator: "returned_units", denominator: "units" },
  { metric: "repeat_rate", testId: "chart-trend-repeat-rate", numerator: "repeat_orders", denominator: "orders" },
];

function drawOverview() {
  const totals = dailyTotals(forSegment(tables.daily_kpis));
  drawKpiTiles(totals);
  for (const trend of TRENDS) drawTrend(trend, totals);
  drawAnomalyTable();
}

function dailyTotals(rows) {
  const byDay = sumBy(rows, (row) => row.day, DAILY_FIELDS);
  const zero = Object.fromEntries(DAILY_FIELDS.map((field) => [field, 0]));
  return ALL_DAYS.map((day) => ({ day, ...(byDay.get(day) ?? zero) }));
}

function windowTotals(totals, after, through) {
  const inWindow = totals.filter((row) => row.day > after && row.day <= through);
  const sums = Object.fromEntries(
    DAILY_FIELDS.map((field) => [field, inWindow.reduce((sum, row) => sum + row[field], 0)]),
  );
  return { ...sums, days: inWindow.length };
}

function drawKpiTiles(totals) {
  const element = document.getElementById("kpi-tiles");
  if (!LATEST_DAY) {
    element.replaceChildren(noDataNote("No data yet."));
    return;
  }
  const latest = windowTotals(totals, shiftDay(LATEST_DAY, -30), LATEST_DAY);
  const before = windowTotals(totals, shiftDay(LATEST_DAY, -60), shiftDay(LATEST_DAY, -30));
  element.replaceChildren(
    ...KPIS.map((kpi) => kpiTile(kpi, kpi.value(latest), before.days ? kpi.value(before) : null)),
  );
}

function kpiTile(kpi, value, previous) {
  const tile = document.createElement("div");
  tile.className = "kpi";
  tile.dataset.testid = `kpi-${kpi.id}`;
  const label = document.createElement("span");
  label.className = "kpi-label";
  label.textContent = kpi.label;
  const figure = document.createElement("span");
  figure.className = "kpi-value";
  figure.textContent = kpi.format(value);
  const change = document.createElement("span");
  change.className = "kpi-change";
  Object.assign(change, kpiChange(kpi, value, previous));
  tile.append(label, figure, change);
  return tile;
}

function kpiChange(kpi, value, previous) {
  const difference =
    value == null || previous == null
      ? null
      : kpi.change === "points"
        ? (value - previous) * 100
        : ratio(value - previous, Math.abs(previous));
  if (difference == null) return { textContent: "nothing to compare with in the 30 days before" };
  const sign = difference > 0 ? "+" : "";
  const amount =
    kpi.change === "points" ? `${sign}${difference.toFixed(1)} pp` : `${sign}${(difference * 100).toFixed(1)}%`;
  const tone = difference === 0 ? "" : difference > 0 === kpi.upIsGood ? "good" : "bad";
  return { textContent: `${amount} vs previous 30 days`, className: `kpi-change ${tone}`.trim() };
}

function drawTrend(trend, totals) {
  if (!forSegment(tables.daily_kpis).length) {
    showEmpty(trend.testId, emptyMessage("daily_kpis"));
    return;
  }
  const isRate = trend.denominator !== null;
  const valueOf = (row) => (isRate ? ratio(row[trend.numerator], row[trend.denominator]) : row[trend.numerator]);
  const days = totals.map((row) => row.day);
  const color = state.segment ? segmentColor(state.segment) : ALL_COLOR;
  const traces = [
    {
      type: "scatter",
      mode: "lines",
      name: "Daily",
      x: days,
      y: totals.map(valueOf),
      line: { color: translucent(color, 0.35), width: 1 },
      hovertemplate: "%{x}: %{y}<extra>daily</extra>",
    },
    {
      type: "scatter",
      mode: "lines",
      name: "7-day",
      x: days,
      y: rollingSeven(totals, trend),
      line: { color, width: 2.5 },
      hovertemplate: "%{x}: %{y}<extra>7-day</extra>",
    },
    ...anomalyMarkers(trend.metric),
  ];
  const tickformat = isRate ? ".1%" : "~s";
  const hoverformat = isRate ? ".1%" : ",.0f";
  plot(trend.testId, traces, { yaxis: { tickformat, hoverformat, rangemode: "tozero" }, xaxis: { type: "date" } });
}

function rollingSeven(totals, trend) {
  return totals.map((_, index) => {
    const week = totals.slice(Math.max(0, index - 6), index + 1);
    const numerator = week.reduce((sum, row) => sum + row[trend.numerator], 0);
    const denominator = trend.denominator ? week.reduce((sum, row) => sum + row[trend.denominator], 0) : week.length;
    return ratio(numerator, denominator);
  });
}

function anomalyMarkers(metric) {
  const flagged = state.segment ? [] : tables.anomalies.filter((row) => row.metric === metric);
  if (!flagged.length) return [];
  return [
    {
      type: "scatter",
      mode: "markers",
      name: "Flagged",
      x: flagged.map((row) => row.day),
      y: flagged.map((row) => row.value),
      customdata: flagged.map((row) => [row.expected, row.low, row.high, row.direction ?? ""]),
      marker: { color: "rgba(0,0,0,0)", size: 12, line: { color: "#c62828", width: 2 } },
      hovertemplate:
        "%{x}: %{y} %{customdata[3]}<br>expected %{customdata[0]:.4~g} (%{customdata[1]:.4~g} – %{customdata[2]:.4~g})<extra>flagged</extra>",
    },
  ];
}

function drawAnomalyTable() {
  if (!tables.anomalies.length) {
    showEmpty("anomaly-table", "No data yet.");
    return;
  }
  const rows = [...tables.anomalies].sort((a, b) => b.day.localeCompare(a.day) || a.metric.localeCompare(b.metric));
  const columns = [
    { key: "day", label: "Day" },
    { key: "metric", label: "Metric", format: (value) => humanize(String(value)) },
    { key: "value", label: "Value", numeric: true, format: formatSignificant },
    {
      key: "expected",
      label: "Expected (band)",
      numeric: true,
      format: (expected, row) =>
        `${formatSignificant(expected)} (${formatSignificant(row.low)} – ${formatSignificant(row.high)})`,
    },
    { key: "direction", label: "Direction" },
  ];
  showTable("anomaly-table", buildTable(columns, rows));
}

// ---------- segments ----------

function drawSegments() {
  drawSegmentSizes();
  drawProfileTable();
  drawRfmHeatmap();
  drawClusterScatter();
}

function profiledSegments() {
  const byName = new Map(tables.segments.map((row) => [row.segment, row]));
  return SEGMENTS.filter((name) => byName.has(name)).map((name) => byName.get(name));
}

function drawSegmentSizes() {
  const rows = profiledSegments();
  if (!rows.length) {
    showEmpty("chart-segment-sizes", "No data yet.");
    return;
  }
  const names = rows.map((row) => row.segment);
  const element = plot(
    "chart-segment-sizes",
    [
      {
        type: "bar",
        x: names,
        y: rows.map((row) => row.customers),
        customdata: names,
        marker: { color: names.map(focusColor) },
        hovertemplate: "%{x}: %{y:,} customers<extra></extra>",
      },
    ],
    { yaxis: { title: { text: "Customers" }, tickformat: "~s" } },
  );
  onClickSelectSegment(element);
}

function drawProfileTable() {
  const rows = profiledSegments();
  if (!rows.length) {
    showEmpty("segment-profile-table", "No data yet.");
    return;
  }
  const kinds = kindsOf("segments");
  const total = rows.reduce((sum, row) => sum + (row.customers ?? 0), 0);
  const profileColumns = Object.keys(kinds).filter((column) => column !== "segment" && column !== "customers");
  const columns = [
    { key: "segment", label: "Segment", swatch: true },
    { key: "customers", label: "Customers", numeric: true, format: formatInteger },
    { key: "customers", label: "Share", numeric: true, format: (value) => formatPercent(ratio(value, total)) },
    ...profileColumns.map((column) => ({
      key: column,
      label: humanize(column),
      numeric: kinds[column] !== "text",
      format: (value) => formatCell(value, kinds[column], column),
    })),
  ];
  const table = buildTable(columns, rows, {
    onRowClick: (row) => setSegment(state.segment === row.segment ? "" : row.segment),
    isSelected: (row) => row.segment === state.segment,
  });
  showTable("segment-profile-table", table);
}

function drawRfmHeatmap() {
  const rows = forSegment(tables.rfm_cells);
  if (!rows.length) {
    showEmpty("chart-rfm-heatmap", emptyMessage("rfm_cells"));
    return;
  }
  const cells = sumBy(rows, (row) => `${row.r_score}|${row.f_score}`, ["customers"]);
  const scores = [1, 2, 3, 4, 5];
  const grid = scores.map((r) => scores.map((f) => cells.get(`${r}|${f}`)?.customers ?? 0));
  plot(
    "chart-rfm-heatmap",
    [
      {
        type: "heatmap",
        x: scores,
        y: scores,
        z: grid,
        colorscale: "YlGnBu",
        reversescale: true,
        texttemplate: "%{z:,}",
        hovertemplate: "recency %{y}, frequency %{x}: %{z:,} customers<extra></extra>",
        colorbar: { thickness: 10 },
      },
    ],
    {
      xaxis: { title: { text: "Frequency score" }, dtick: 1, gridcolor: "rgba(0,0,0,0)" },
      yaxis: { title: { text: "Recency score" }, dtick: 1, gridcolor: "rgba(0,0,0,0)" },
    },
  );
}

function drawClusterScatter() {
  const rows = tables.cluster_points;
  if (!rows.length || !forSegment(rows).length) {
    showEmpty("chart-cluster-scatter", emptyMessage("cluster_points"));
    return;
  }
  const names = segmentsIn(rows);
  const ordered = state.segment ? [...names.filter((name) => name !== state.segment), state.segment] : names;
  const traces = ordered.map((name) => {
    const points = rows.filter((row) => row.segment === name);
    return {
      type: "scatter",
      mode: "markers",
      name,
      x: points.map((row) => row.x),
      y: points.map((row) => row.y),
      marker: { color: focusColor(name), size: 5, opacity: state.segment && name !== state.segment ? 0.5 : 0.75 },
      hovertemplate: "%{data.name}<extra></extra>",
    };
  });
  plot("chart-cluster-scatter", traces, {
    showlegend: true,
    xaxis: { showticklabels: false, title: { text: "Component 1" } },
    yaxis: { showticklabels: false, title: { text: "Component 2" } },
  });
}

// ---------- returns ----------

const RETURN_DIMENSIONS = ["category", "price_band", "month"];

function drawReturns() {
  drawReturnRateBySegment();
  drawReturnRateBy("month", "chart-return-rate-by-month");
  drawReturnRateBy("category", "chart-return-rate-by-category");
  drawReturnRateBy("price_band", "chart-return-rate-by-price-band");
  drawReturnFactors();
  drawCalibration();
  drawReturnMetrics();
}

function returnRows(dimension) {
  return tables.returns_by.filter((row) => row.dimension === dimension);
}

function drawReturnRateBySegment() {
  const dimension = RETURN_DIMENSIONS.find((candidate) => returnRows(candidate).length);
  if (!dimension) {
    showEmpty("chart-return-rate-by-segment", "No data yet.");
    return;
  }
  const rows = returnRows(dimension);
  const sums = sumBy(rows, (row) => row.segment, ["units", "returned_units"]);
  const names = segmentsIn(rows);
  const element = plot(
    "chart-return-rate-by-segment",
    [
      {
        type: "bar",
        x: names,
        y: names.map((name) => ratio(sums.get(name).returned_units, sums.get(name).units)),
        customdata: names,
        text: names.map(
          (name) => `${formatInteger(sums.get(name).returned_units)} of ${formatInteger(sums.get(name).units)} units`,
        ),
        marker: { color: names.map(focusColor) },
        hovertemplate: "%{x}: %{y:.1%}<br>%{text}<extra></extra>",
        textposition: "none",
      },
    ],
    { yaxis: { tickformat: ".0%", rangemode: "tozero" } },
  );
  onClickSelectSegment(element);
}

function drawReturnRateBy(dimension, testId) {
  const rows = forSegment(returnRows(dimension));
  if (!rows.length) {
    showEmpty(testId, returnRows(dimension).length ? emptyMessage("returns_by") : "No data yet.");
    return;
  }
  const sums = sumBy(rows, (row) => row.value, ["units", "returned_units"]);
  const rate = (value) => ratio(sums.get(value).returned_units, sums.get(value).units);
  const values = orderedValues(dimension, rows, rate);
  const color = state.segment ? segmentColor(state.segment) : ALL_COLOR;
  const trace = {
    x: values,
    y: values.map(rate),
    text: values.map(
      (value) => `${formatInteger(sums.get(value).returned_units)} of ${formatInteger(sums.get(value).units)} units`,
    ),
    hovertemplate: "%{x}: %{y:.1%}<br>%{text}<extra></extra>",
  };
  const shaped =
    dimension === "month"
      ? { ...trace, type: "scatter", mode: "lines+markers", line: { color, width: 2.5 } }
      : { ...trace, type: "bar", marker: { color }, textposition: "none" };
  plot(testId, [shaped], { yaxis: { tickformat: ".0%", rangemode: "tozero" }, xaxis: { type: "category" } });
}

function orderedValues(dimension, rows, rate) {
  const values = distinct(rows.map((row) => row.value));
  if (dimension === "month") return values.sort();
  if (dimension === "category") return values.sort((a, b) => (rate(b) ?? -1) - (rate(a) ?? -1) || a.localeCompare(b));
  return values;
}

function drawReturnFactors() {
  const rows = [...tables.return_factors]
    .sort((a, b) => (b.importance ?? 0) - (a.importance ?? 0))
    .slice(0, 15)
    .reverse();
  if (!rows.length) {
    showEmpty("chart-return-factors", "No data yet.");
    return;
  }
  plot(
    "chart-return-factors",
    [
      {
        type: "bar",
        orientation: "h",
        x: rows.map((row) => row.importance),
        y: rows.map((row) => humanize(row.feature)),
        marker: { color: "#4e79a7" },
        hovertemplate: "%{y}: %{x:.3~g}<extra></extra>",
      },
    ],
    { margin: { ...BASE_LAYOUT.margin, l: 8 }, xaxis: { title: { text: "Importance" } } },
  );
}

function drawCalibration() {
  const rows = [...tables.return_calibration].sort((a, b) => (a.predicted ?? 0) - (b.predicted ?? 0));
  if (!rows.length) {
    showEmpty("chart-return-calibration", "No data yet.");
    return;
  }
  const largest = Math.max(...rows.map((row) => row.lines ?? 0), 1);
  const top = Math.min(1, Math.max(...rows.map((row) => Math.max(row.predicted ?? 0, row.observed ?? 0))) * 1.1) || 1;
  plot(
    "chart-return-calibration",
    [
      {
        type: "scatter",
        mode: "lines",
        name: "Perfect calibration",
        x: [0, top],
        y: [0, top],
        line: { color: "#9aa5b1", dash: "dash", width: 1 },
        hoverinfo: "skip",
      },
      {
        type: "scatter",
        mode: "lines+markers",
        name: "Model",
        x: rows.map((row) => row.predicted),
        y: rows.map((row) => row.observed),
        customdata: rows.map((row) => row.lines),
        marker: { color: "#e15759", size: rows.map((row) => 6 + 12 * Math.sqrt((row.lines ?? 0) / largest)) },
        line: { color: "#e15759", width: 1.5 },
        hovertemplate: "predicted %{x:.1%}, observed %{y:.1%}<br>%{customdata:,} lines<extra></extra>",
      },
    ],
    {
      showlegend: true,
      xaxis: { title: { text: "Predicted return probability" }, tickformat: ".0%", range: [0, top] },
      yaxis: { title: { text: "Observed return share" }, tickformat: ".0%", range: [0, top] },
    },
  );
}

function drawReturnMetrics() {
  const rows = tables.return_metrics;
  if (!rows.length) {
    showEmpty("return-metrics-table", "No data yet.");
    return;
  }
  const models = distinct(rows.map((row) => row.model));
  const byName = new Map();
  for (const row of rows) byName.set(row.name, { ...byName.get(row.name), name: row.name, [row.model]: row.value });
  const columns = [
    { key: "name", label: "Measure", format: (value) => humanize(String(value)) },
    ...models.map((model) => ({
      key: model,
      label: humanize(String(model)),
      numeric: true,
      format: (value) => (value == null ? DASH : value.toFixed(3)),
    })),
  ];
  showTable("return-metrics-table", buildTable(columns, [...byName.values()]));
}

// ---------- value & churn ----------

function drawValue() {
  drawChurnBands();
  drawClv();
}

function drawChurnBands() {
  const rows = forSegment(tables.value_bands);
  if (!rows.length) {
    showEmpty("chart-churn-bands", emptyMessage("value_bands"));
    return;
  }
  const names = segmentsIn(rows);
  const bands = distinct(["Low", "Medium", "High", ...rows.map((row) => row.churn_band)]).filter((band) =>
    rows.some((row) => row.churn_band === band),
  );
  const sums = sumBy(rows, (row) => `${row.segment}|${row.churn_band}`, ["customers"]);
  const traces = bands.map((band) => ({
    type: "bar",
    name: `${band} risk`,
    x: names,
    y: names.map((name) => sums.get(`${name}|${band}`)?.customers ?? 0),
    customdata: names,
    marker: { color: BAND_COLORS[band] ?? OTHER_COLOR },
    hovertemplate: "%{x}: %{y:,} customers<extra>%{data.name}</extra>",
  }));
  const element = plot("chart-churn-bands", traces, {
    barmode: "stack",
    showlegend: true,
    yaxis: { title: { text: "Customers" }, tickformat: "~s" },
  });
  onClickSelectSegment(element);
}

function drawClv() {
  const rows = forSegment(tables.value_bands);
  if (!rows.length) {
    showEmpty("chart-clv-by-segment", emptyMessage("value_bands"));
    return;
  }
  const names = segmentsIn(rows);
  const sums = sumBy(rows, (row) => row.segment, ["customers", "clv", "net_clv"]);
  const series = [
    { field: "clv", label: "Lifetime value", color: "#4e79a7" },
    { field: "net_clv", label: "Net of returns", color: "#76b7b2" },
  ];
  const traces = series.map(({ field, label, color }) => ({
    type: "bar",
    name: label,
    x: names,
    y: names.map((name) => sums.get(name)[field]),
    customdata: names,
    text: names.map((name) => formatDecimal(ratio(sums.get(name)[field], sums.get(name).customers))),
    textposition: "none",
    marker: { color },
    hovertemplate: "%{x}: %{y:,.0f}<br>%{text} per customer<extra>%{data.name}</extra>",
  }));
  const element = plot("chart-clv-by-segment", traces, {
    barmode: "group",
    showlegend: true,
    yaxis: { tickformat: "~s" },
  });
  onClickSelectSegment(element);
}

// ---------- campaigns ----------

function drawCampaigns() {
  const cut = state.segment || "overall";
  const rows = tables.campaign_lifts.filter((row) => row.campaign_id === state.campaign && row.cut === cut);
  if (!rows.length) {
    const message = tables.campaign_lifts.length
      ? `No results for ${cut} in campaign ${state.campaign}.`
      : "No data yet.";
    showEmpty("chart-campaign-lifts", message);
    showEmpty("campaign-lift-table", message);
    return;
  }
  drawLiftChart(rows);
  drawLiftTable(rows);
}

function drawLiftChart(rows) {
  const traces = [true, false]
    .map((recommended) => rows.filter((row) => Boolean(row.recommended) === recommended))
    .filter((group) => group.length)
    .map((group) => ({
      type: "scatter",
      mode: "markers",
      name: group[0].recommended ? "Recommended" : "Not recommended",
      x: group.map((row) => row.lift),
      y: group.map((row) => row.variant),
      customdata: group.map((row) => [row.low, row.high, row.p_adjusted]),
      error_x: {
        type: "data",
        symmetric: false,
        array: group.map((row) => (row.high ?? row.lift) - row.lift),
        arrayminus: group.map((row) => row.lift - (row.low ?? row.lift)),
        color: group[0].recommended ? "#2e7d32" : "#7b8794",
        thickness: 2,
        width: 6,
      },
      marker: { color: group[0].recommended ? "#2e7d32" : "#7b8794", size: 11 },
      hovertemplate:
        "%{y}: lift %{x:.3~g} (%{customdata[0]:.3~g} – %{customdata[1]:.3~g})<br>adjusted p %{customdata[2]:.3~g}<extra></extra>",
    }));
  plot("chart-campaign-lifts", traces, {
    showlegend: true,
    xaxis: { title: { text: "Lift over control" }, zeroline: true, zerolinecolor: "#616e7c", zerolinewidth: 1 },
    yaxis: { type: "category", automargin: true },
  });
}

function drawLiftTable(rows) {
  const columns = [
    { key: "variant", label: "Variant" },
    { key: "lift", label: "Lift", numeric: true, format: formatSignificant },
    {
      key: "low",
      label: "Interval",
      numeric: true,
      format: (low, row) => `${formatSignificant(low)} – ${formatSignificant(row.high)}`,
    },
    { key: "p_adjusted", label: "Adjusted p", numeric: true, format: formatSignificant },
    { key: "recommended", label: "Recommended", format: (value) => (value ? "Yes" : "No") },
  ];
  showTable("campaign-lift-table", buildTable(columns, rows));
}

// ---------- cohorts ----------

function drawCohorts() {
  const rows = forSegment(tables.cohorts);
  if (!rows.length) {
    showEmpty("chart-cohort-retention", emptyMessage("cohorts"));
    return;
  }
  const sums = sumBy(rows, (row) => `${row.cohort}|${row.months_since}`, ["customers", "cohort_size"]);
  const cohorts = distinct(rows.map((row) => row.cohort)).sort();
  const months = distinct(rows.map((row) => row.months_since)).sort((a, b) => a - b);
  const share = (cohort, month) => {
    const cell = sums.get(`${cohort}|${month}`);
    return cell ? ratio(cell.customers, cell.cohort_size) : null;
  };
  plot(
    "chart-cohort-retention",
    [
      {
        type: "heatmap",
        x: months,
        y: cohorts,
        z: cohorts.map((cohort) => months.map((month) => share(cohort, month))),
        zmin: 0,
        zmax: 1,
        colorscale: "YlGnBu",
        reversescale: true,
        texttemplate: "%{z:.0%}",
        hovertemplate: "cohort %{y}, month %{x}: %{z:.1%} active<extra></extra>",
        colorbar: { thickness: 10, tickformat: ".0%" },
        hoverongaps: false,
      },
    ],
    {
      xaxis: { title: { text: "Months since first purchase" }, dtick: 1, gridcolor: "rgba(0,0,0,0)" },
      yaxis: {
        title: { text: "First-purchase month" },
        type: "category",
        autorange: "reversed",
        gridcolor: "rgba(0,0,0,0)",
      },
    },
  );
}

// ---------- transitions ----------

function drawTransitions() {
  const rows = tables.transitions.filter(
    (row) => !state.segment || row.from_segment === state.segment || row.to_segment === state.segment,
  );
  if (!rows.length) {
    showEmpty("chart-transitions", emptyMessage("transitions"));
    return;
  }
  const byOrder = (names) => distinct(names).sort((a, b) => displayRank(a) - displayRank(b) || a.localeCompare(b));
  const sources = byOrder(rows.map((row) => row.from_segment));
  const targets = byOrder(rows.map((row) => row.to_segment));
  const labels = [...sources, ...targets];
  plot(
    "chart-transitions",
    [
      {
        type: "sankey",
        arrangement: "snap",
        node: { label: labels, color: labels.map(segmentColor), pad: 14, thickness: 16, line: { width: 0 } },
        link: {
          source: rows.map((row) => sources.indexOf(row.from_segment)),
          target: rows.map((row) => sources.length + targets.indexOf(row.to_segment)),
          value: rows.map((row) => row.customers),
          color: rows.map((row) => translucent(segmentColor(row.from_segment), 0.35)),
          hovertemplate: "%{source.label} → %{target.label}: %{value:,} customers<extra></extra>",
        },
      },
    ],
    {
      margin: { t: 28, r: 16, b: 16, l: 16 },
      annotations: [
        {
          text: "Previous segment",
          x: 0,
          y: 1.06,
          xref: "paper",
          yref: "paper",
          showarrow: false,
          xanchor: "left",
          font: { color: "#616e7c" },
        },
        {
          text: "Latest segment",
          x: 1,
          y: 1.06,
          xref: "paper",
          yref: "paper",
          showarrow: false,
          xanchor: "right",
          font: { color: "#616e7c" },
        },
      ],
    },
  );
}

function displayRank(name) {
  const index = SEGMENTS.indexOf(name);
  return index === -1 ? SEGMENTS.length : index;
}

// ---------- recommendations & actions ----------

function drawActions() {
  drawNextBestActions();
  drawRecommendedProducts();
  drawCustomerTable();
  drawCustomerDetail();
}

function drawNextBestActions() {
  const rows = forSegment(tables.actions);
  if (!rows.length) {
    showEmpty("chart-next-best-actions", emptyMessage("actions"));
    return;
  }
  const totals = sumBy(rows, (row) => row.action, ["customers"]);
  const actions = [...totals.keys()].sort(
    (a, b) => totals.get(a).customers - totals.get(b).customers || b.localeCompare(a),
  );
  const sums = sumBy(rows, (row) => `${row.segment}|${row.action}`, ["customers"]);
  const traces = segmentsIn(rows).map((name) => ({
    type: "bar",
    orientation: "h",
    name,
    x: actions.map((action) => sums.get(`${name}|${action}`)?.customers ?? 0),
    y: actions,
    marker: { color: segmentColor(name) },
    hovertemplate: "%{data.name}: %{x:,} customers<extra>%{y}</extra>",
  }));
  container("chart-next-best-actions").style.height = `${Math.max(300, 60 + 34 * actions.length)}px`;
  plot("chart-next-best-actions", traces, {
    barmode: "stack",
    showlegend: !state.segment,
    margin: { ...BASE_LAYOUT.margin, l: 8 },
    xaxis: { title: { text: "Customers" } },
  });
}

function drawRecommendedProducts() {
  const rows = forSegment(tables.recommended_products);
  if (!rows.length) {
    showEmpty("recommended-products-table", emptyMessage("recommended_products"));
    return;
  }
  const products = new Map();
  for (const row of rows) {
    const product = products.get(row.product_id) ?? {
      product_id: row.product_id,
      category: row.category,
      customers: 0,
      riskWeight: 0,
      riskCustomers: 0,
    };
    product.customers += row.customers ?? 0;
    if (row.return_risk != null) {
      product.riskWeight += row.return_risk * (row.customers ?? 0);
      product.riskCustomers += row.customers ?? 0;
    }
    products.set(row.product_id, product);
  }
  const top = [...products.values()]
    .sort((a, b) => b.customers - a.customers || String(a.product_id).localeCompare(String(b.product_id)))
    .slice(0, 20);
  const columns = [
    { key: "product_id", label: "Product" },
    { key: "category", label: "Category" },
    { key: "customers", label: "Customers", numeric: true, format: formatInteger },
    {
      key: "riskWeight",
      label: "Return risk",
      numeric: true,
      format: (weight, row) => formatPercent(ratio(weight, row.riskCustomers)),
    },
  ];
  showTable("recommended-products-table", buildTable(columns, top));
}

// ---------- customers ----------

const CUSTOMER_KINDS = kindsOf("customers");
const CUSTOMER_COLUMNS = Object.keys(CUSTOMER_KINDS);
const CUSTOMER_SEARCH_TEXT = new Map(
  tables.customers.map((row) => [
    row,
    CUSTOMER_COLUMNS.map((column) => `${row[column] ?? ""} ${formatCell(row[column], CUSTOMER_KINDS[column], column)}`)
      .join(" ")
      .toLowerCase(),
  ]),
);

function buildCustomerHeader() {
  const headRow = document.querySelector("#customer-table thead").insertRow();
  for (const column of CUSTOMER_COLUMNS) {
    const cell = document.createElement("th");
    cell.dataset.column = column;
    if (isNumeric(column)) cell.className = "number";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort-button";
    button.textContent = humanize(column);
    button.addEventListener("click", () => sortCustomersBy(column));
    cell.append(button);
    headRow.append(cell);
  }
}

function isNumeric(column) {
  return CUSTOMER_KINDS[column] === "count" || CUSTOMER_KINDS[column] === "amount";
}

function sortCustomersBy(column) {
  state.sortDescending = state.sortColumn === column ? !state.sortDescending : isNumeric(column);
  state.sortColumn = column;
  drawCustomerTable();
}

function visibleCustomers() {
  const query = state.search.trim().toLowerCase();
  const rows = forSegment(tables.customers).filter((row) => !query || CUSTOMER_SEARCH_TEXT.get(row).includes(query));
  if (!state.sortColumn) return rows;
  const direction = state.sortDescending ? -1 : 1;
  return [...rows].sort((a, b) => direction * compareValues(a[state.sortColumn], b[state.sortColumn]));
}

function compareValues(a, b) {
  if (a == null || b == null) return (a == null) - (b == null);
  return typeof a === "number" && typeof b === "number"
    ? a - b
    : String(a).localeCompare(String(b), "en", { numeric: true });
}

function drawCustomerTable() {
  const table = document.getElementById("customer-table");
  const wrapper = table.parentElement;
  wrapper.querySelector(".no-data")?.remove();
  for (const cell of table.querySelectorAll("th")) {
    cell.setAttribute(
      "aria-sort",
      cell.dataset.column !== state.sortColumn ? "none" : state.sortDescending ? "descending" : "ascending",
    );
  }
  const rows = visibleCustomers();
  table.tBodies[0].replaceChildren(...rows.map(customerRow));
  const count = document.getElementById("customer-count");
  const inSegment = forSegment(tables.customers).length;
  count.textContent = inSegment ? `Showing ${formatInteger(rows.length)} of ${formatInteger(inSegment)} customers` : "";
  table.hidden = inSegment === 0;
  if (!inSegment) wrapper.append(noDataNote(emptyMessage("customers")));
}

function customerRow(row) {
  const tableRow = document.createElement("tr");
  tableRow.className = "clickable";
  tableRow.tabIndex = 0;
  tableRow.dataset.customerId = row.customer_id;
  tableRow.dataset.segment = row.segment;
  if (row.customer_id === state.customerId) tableRow.classList.add("is-selected");
  for (const column of CUSTOMER_COLUMNS) {
    const kind = CUSTOMER_KINDS[column];
    fillCell(
      tableRow.insertCell(),
      {
        key: column,
        numeric: isNumeric(column),
        swatch: column === "segment",
        format: (value) => formatCell(value, kind, column),
      },
      row,
    );
  }
  return tableRow;
}

function showCustomer(customerId) {
  state.customerId = customerId;
  for (const tableRow of document.querySelectorAll("#customer-table tbody tr")) {
    tableRow.classList.toggle("is-selected", tableRow.dataset.customerId === customerId);
  }
  drawCustomerDetail();
  if (customerId) document.getElementById("customer-detail").scrollIntoView({ block: "nearest" });
}

function drawCustomerDetail() {
  const panel = document.getElementById("customer-detail");
  const customer = forSegment(tables.customers).find((row) => row.customer_id === state.customerId);
  panel.hidden = !customer;
  if (!customer) return;
  document.getElementById("customer-detail-title").textContent = `Customer ${customer.customer_id}`;
  document
    .getElementById("customer-scores")
    .replaceChildren(
      ...CUSTOMER_COLUMNS.filter((column) => column !== "customer_id").map((column) => scoreItem(column, customer)),
    );
  drawCustomerHistory(customer.customer_id);
}

function scoreItem(column, customer) {
  const item = document.createElement("div");
  const term = document.createElement("dt");
  term.textContent = humanize(column);
  const value = document.createElement("dd");
  value.textContent = formatCell(customer[column], CUSTOMER_KINDS[column], column);
  item.append(term, value);
  return item;
}

function drawCustomerHistory(customerId) {
  const months = tables.customer_months
    .filter((row) => row.customer_id === customerId)
    .sort((a, b) => a.month.localeCompare(b.month));
  if (!months.length) {
    showEmpty("customer-history-chart", "No monthly history for this customer yet.");
    return;
  }
  const x = months.map((row) => row.month);
  plot(
    "customer-history-chart",
    [
      {
        type: "bar",
        name: "Revenue",
        x,
        y: months.map((row) => row.revenue),
        marker: { color: "#4e79a7" },
        hovertemplate: "%{x}: %{y:,.2f} revenue<extra></extra>",
      },
      {
        type: "scatter",
        mode: "lines+markers",
        name: "Orders",
        x,
        y: months.map((row) => row.orders),
        yaxis: "y2",
        line: { color: "#f28e2b" },
        hovertemplate: "%{x}: %{y} orders<extra></extra>",
      },
      {
        type: "scatter",
        mode: "lines+markers",
        name: "Returned units",
        x,
        y: months.map((row) => row.returned_units),
        yaxis: "y2",
        line: { color: "#e15759", dash: "dot" },
        hovertemplate: "%{x}: %{y} returned units<extra></extra>",
      },
    ],
    {
      showlegend: true,
      xaxis: { type: "category" },
      yaxis: { title: { text: "Revenue" }, rangemode: "tozero" },
      yaxis2: {
        title: { text: "Orders, returned units" },
        overlaying: "y",
        side: "right",
        rangemode: "tozero",
        showgrid: false,
        zeroline: false,
      },
      margin: { ...BASE_LAYOUT.margin, r: 56 },
    },
  );
}

// ---------- pages and filters ----------

const PAGES = {
  overview: drawOverview,
  segments: drawSegments,
  returns: drawReturns,
  value: drawValue,
  campaigns: drawCampaigns,
  cohorts: drawCohorts,
  transitions: drawTransitions,
  actions: drawActions,
};

function showPage(page) {
  state.page = page in PAGES ? page : "overview";
  for (const section of document.querySelectorAll(".page")) section.hidden = section.dataset.page !== state.page;
  for (const link of document.querySelectorAll(".nav-item")) {
    if (link.dataset.page === state.page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  render();
}

function render() {
  PAGES[state.page]();
}

function setSegment(name) {
  state.segment = name;
  document.getElementById("segment-filter").value = name;
  render();
}

function fillSelect(select, values) {
  select.append(...values.map((value) => new Option(value, value)));
}

function init() {
  const segmentFilter = document.getElementById("segment-filter");
  fillSelect(segmentFilter, SEGMENTS);
  segmentFilter.addEventListener("change", () => setSegment(segmentFilter.value));

  const campaignFilter = document.getElementById("campaign-filter");
  const campaigns = distinct(tables.campaign_lifts.map((row) => row.campaign_id)).sort();
  fillSelect(campaignFilter, campaigns);
  campaignFilter.disabled = !campaigns.length;
  state.campaign = campaigns[0] ?? "";
  campaignFilter.addEventListener("change", () => {
    state.campaign = campaignFilter.value;
    render();
  });

  buildCustomerHeader();
  const customerRows = document.querySelector("#customer-table tbody");
  customerRows.addEventListener("click", (event) => showCustomer(event.target.closest("tr").dataset.customerId));
  customerRows.addEventListener("keydown", (event) => {
    if (event.key === "Enter") showCustomer(event.target.closest("tr").dataset.customerId);
  });
  document.getElementById("customer-search").addEventListener("input", (event) => {
    state.search = event.target.value;
    drawCustomerTable();
  });
  document.getElementById("customer-detail-close").addEventListener("click", () => showCustomer(""));

  window.addEventListener("hashchange", () => showPage(location.hash.slice(1)));
  showPage(location.hash.slice(1));
  document.body.dataset.ready = "true";
}

init();
