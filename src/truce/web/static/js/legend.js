// The map legend: incident status (shape + colour + badge), event types, map features.
import { EVENT_LABELS, STATUSES, STATUS_ORDER, glyphSvg, symbolSvg } from "./styles.js";

export function legendControl(L, { eventTypes, collapsed }) {
  const control = L.control({ position: "bottomright" });
  control.onAdd = () => {
    const div = L.DomUtil.create("div", "legend leaflet-control");
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    const statuses = STATUS_ORDER.map((k) => {
      const st = STATUSES[k];
      return `<li title="${st.help}"><span class="legend-symbol">${symbolSvg("none", k, 20)}<span class="status-badge-mini status-${k}">${st.badge}</span></span>${st.label}</li>`;
    }).join("");
    const types = (eventTypes.length ? eventTypes : Object.keys(EVENT_LABELS))
      .map((t) => `<li><span class="legend-glyph">${glyphSvg(t, 16)}</span>${EVENT_LABELS[t] || t}</li>`).join("");
    div.innerHTML = `<details ${collapsed ? "" : "open"}><summary>Legend</summary>
      <h3>Incident status (shape, colour, badge)</h3><ul class="legend-list">${statuses}</ul>
      <details class="legend-more"><summary>Event types and map symbols</summary>
      <h3>Event type (symbol inside)</h3><ul class="legend-list">${types}</ul>
      <h3>Agreement</h3><ul class="legend-list">
        <li><span class="legend-zone"></span>Zone where rules apply</li>
        <li><span class="legend-line"></span>Road / corridor</li>
        <li><span class="checkpoint-icon legend-cp">CP</span>Checkpoint</li>
        <li><span class="legend-cluster">12</span>Group of incidents; “5!”: 5 with violations</li>
      </ul></details></details>`;
    return div;
  };
  return control;
}
