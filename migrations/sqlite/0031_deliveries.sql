-- Delivery (出库单, 发货, 到货, 验收; DOMAIN.md §12.2; issue 21). An outbound sends part or all of
-- a signed order's lines (by their position in the version in force): `prepared` → `shipped`
-- (carrier, waybill, day) → `delivered` (day) → `accepted` by the customer (day; the acceptance
-- document is an attachment of kind `outbound`); a prepared one may be cancelled.
CREATE TABLE outbounds (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    -- The order's signed version the outbound was prepared against.
    order_version INTEGER NOT NULL,
    state TEXT NOT NULL,
    note TEXT,
    carrier TEXT,
    waybill TEXT,
    shipped_on TEXT,
    delivered_on TEXT,
    accepted_on TEXT,
    acceptance_note TEXT,
    cancel_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- When each step was recorded (the first delivery recorded is the order's delivery event).
    delivered_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX outbounds_order ON outbounds(order_id, id);

CREATE TABLE outbound_lines (
    id INTEGER PRIMARY KEY,
    outbound_id INTEGER NOT NULL REFERENCES outbounds(id),
    -- The order line's position in its version.
    position INTEGER NOT NULL,
    description TEXT NOT NULL,
    unit TEXT NOT NULL,
    -- Thousandths of a unit.
    quantity INTEGER NOT NULL
);
CREATE INDEX outbound_lines_outbound ON outbound_lines(outbound_id, position);

-- How far each signed order's delivery has come, against its version in force: kept by every
-- outbound step and every signing. `open` while a line is not wholly delivered (the logistics
-- worklist); `delivered_on` the day of the first delivery recorded (the order's delivery event),
-- `accepted_on` the day the last of its lines was accepted (its acceptance event).
CREATE TABLE order_fulfilment (
    order_id INTEGER PRIMARY KEY REFERENCES orders(id),
    version_no INTEGER NOT NULL,
    line_count INTEGER NOT NULL,
    lines_unplanned INTEGER NOT NULL,
    lines_undelivered INTEGER NOT NULL,
    lines_unaccepted INTEGER NOT NULL,
    open INTEGER NOT NULL,
    delivered_on TEXT,
    accepted_on TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX order_fulfilment_open ON order_fulfilment(order_id) WHERE open = 1;

-- Orders signed before this part: nothing delivered yet.
INSERT INTO order_fulfilment (order_id, version_no, line_count, lines_unplanned, lines_undelivered, lines_unaccepted,
    open, updated_at)
SELECT o.id, o.signed_version, n.c, n.c, n.c, n.c, 1, o.updated_at
FROM orders o
JOIN (SELECT v.order_id, v.version_no, COUNT(l.id) AS c FROM order_versions v
      JOIN order_lines l ON l.version_id = v.id GROUP BY v.order_id, v.version_no) n
  ON n.order_id = o.id AND n.version_no = o.signed_version
WHERE o.signed_version IS NOT NULL AND o.state <> 'cancelled';
