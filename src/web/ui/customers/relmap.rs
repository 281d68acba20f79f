//! The relationship map: the buying committee as an org chart in SVG, drawn on the server.
//! Colour is the attitude to us, dots the relationship strength; a dashed red frame marks a
//! coverage gap; a note marks what changed since the chosen date.
use std::collections::HashMap;
use std::fmt::Write;

use crate::app::customers::contacts::{ContactView, RelationshipChange};
use crate::domain::account::coverage_gap;
use crate::web::ui::Layout;

const W: i64 = 170;
const H: i64 = 84;
const GAP_X: i64 = 20;
const GAP_Y: i64 = 46;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        s.chars().take(n - 1).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}

/// Lays the contacts out as a tree (children under their boss, leaves side by side) and
/// returns the SVG, or `None` when there is no one to draw.
pub fn draw(l: &Layout, cs: &[ContactView], changes: &[RelationshipChange]) -> Option<String> {
    if cs.is_empty() {
        return None;
    }
    let ids: Vec<i64> = cs.iter().map(|c| c.id).collect();
    let parent = |c: &ContactView| c.reports_to.filter(|p| ids.contains(p) && *p != c.id);
    let mut kids: HashMap<Option<i64>, Vec<i64>> = HashMap::new();
    for c in cs {
        kids.entry(parent(c)).or_default().push(c.id);
    }
    // x in slot units (leaves take one slot each; a boss sits over the middle of its reports).
    let mut pos: HashMap<i64, (f64, i64)> = HashMap::new();
    let mut next_slot = 0f64;
    fn place(
        id: i64,
        depth: i64,
        kids: &HashMap<Option<i64>, Vec<i64>>,
        pos: &mut HashMap<i64, (f64, i64)>,
        next: &mut f64,
    ) -> f64 {
        if pos.contains_key(&id) || depth > 30 {
            return pos.get(&id).map(|p| p.0).unwrap_or(*next);
        }
        pos.insert(id, (0.0, depth));
        let children = kids.get(&Some(id)).cloned().unwrap_or_default();
        let x = if children.is_empty() {
            let x = *next;
            *next += 1.0;
            x
        } else {
            let xs: Vec<f64> = children.iter().map(|c| place(*c, depth + 1, kids, pos, next)).collect();
            (xs[0] + xs[xs.len() - 1]) / 2.0
        };
        pos.insert(id, (x, depth));
        x
    }
    for root in kids.get(&None).cloned().unwrap_or_default() {
        place(root, 0, &kids, &mut pos, &mut next_slot);
    }
    for c in cs {
        if !pos.contains_key(&c.id) {
            place(c.id, 0, &kids, &mut pos, &mut next_slot);
        }
    }
    let max_depth = pos.values().map(|p| p.1).max().unwrap_or(0);
    let width = (next_slot.max(1.0) as i64) * (W + GAP_X) + GAP_X;
    let height = (max_depth + 1) * (H + GAP_Y) + GAP_Y;
    let at = |id: i64| {
        let (x, d) = pos.get(&id).copied().unwrap_or((0.0, 0));
        (GAP_X + (x * (W + GAP_X) as f64) as i64, GAP_Y / 2 + d * (H + GAP_Y))
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="relmap" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="relmap-title"><title id="relmap-title">{}</title>"#,
        esc(&l.t("relmap.title"))
    );
    for c in cs {
        if let Some(p) = parent(c) {
            let (px, py) = at(p);
            let (x, y) = at(c.id);
            let _ = write!(
                svg,
                r##"<path d="M{} {} V{} H{} V{}" fill="none" stroke="#98a2b3" stroke-width="1.5"/>"##,
                px + W / 2,
                py + H,
                py + H + GAP_Y / 2,
                x + W / 2,
                y
            );
        }
    }
    for c in cs {
        let (x, y) = at(c.id);
        let (fill, stroke) = match c.attitude.as_deref() {
            Some("supporter") => ("#dcfae6", "#067647"),
            Some("opponent") => ("#fee4e2", "#b42318"),
            Some("neutral") => ("#f2f4f7", "#667085"),
            _ => ("#ffffff", "#98a2b3"),
        };
        let gap = coverage_gap(c.decision_role.as_deref(), c.relationship);
        let frame = if gap { r##" stroke="#d92d20" stroke-width="3" stroke-dasharray="6 3""## } else { "" };
        let _ = write!(
            svg,
            r##"<g class="person{}" data-contact="{}"><a href="/contacts/{}"><rect x="{x}" y="{y}" width="{W}" height="{H}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="1.5"{frame}/>"##,
            if gap { " gap" } else { "" },
            c.id,
            c.id
        );
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-size="14" font-weight="600" fill="#1d2330">{}</text>"##,
            x + 10,
            y + 20,
            esc(&cut(&l.person(&c.name), 9))
        );
        let line2 =
            [c.title.as_deref(), c.department.as_deref()].iter().flatten().copied().collect::<Vec<_>>().join(" · ");
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-size="11" fill="#5b6475">{}</text>"##,
            x + 10,
            y + 37,
            esc(&cut(&line2, 14))
        );
        let role = c.decision_role.as_deref().map(|r| l.e("decision_role", r)).unwrap_or_else(|| "—".into());
        let att = c.attitude.as_deref().map(|a| l.e("attitude", a)).unwrap_or_else(|| "?".into());
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-size="11" fill="{stroke}">{} · {}</text>"##,
            x + 10,
            y + 54,
            esc(&role),
            esc(&att)
        );
        let strength = c.relationship.unwrap_or(0).clamp(0, 5) as usize;
        let dots = "●".repeat(strength) + &"○".repeat(5 - strength);
        let _ = write!(svg, r##"<text x="{}" y="{}" font-size="11" fill="#1f5fbf">{dots}</text>"##, x + 10, y + 71);
        if gap {
            let _ = write!(
                svg,
                r##"<text x="{}" y="{}" font-size="11" font-weight="600" fill="#d92d20">⚠ {}</text>"##,
                x + 82,
                y + 71,
                esc(&l.t("relmap.gap"))
            );
        }
        let mine: Vec<&RelationshipChange> = changes.iter().filter(|ch| ch.contact_id == c.id).collect();
        if !mine.is_empty() {
            let _ = write!(
                svg,
                r##"<circle cx="{}" cy="{}" r="9" fill="#fca311"/><text x="{}" y="{}" font-size="11" font-weight="700" fill="#1d2330" text-anchor="middle">{}</text>"##,
                x + W - 6,
                y + 6,
                x + W - 6,
                y + 10,
                mine.len()
            );
        }
        svg.push_str("</a></g>");
    }
    svg.push_str("</svg>");
    Some(svg)
}
