-- Orders (订货单, DOMAIN.md M7; issue 21) and the customer's invoicing details (开票信息). An
-- order belongs to an account (and, when it comes from one, to a won opportunity or an accepted
-- quote); each change is a version with its own lines, terms and state (a signed version never
-- changes). The order row carries its latest version's figures for lists, and the total of its
-- latest signed version (`signed_total`), which is what a won opportunity books.
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    opportunity_id INTEGER REFERENCES opportunities(id),
    quote_id INTEGER REFERENCES quotes(id),
    owner_id INTEGER NOT NULL REFERENCES users(id),
    contract_no TEXT,
    requested_delivery TEXT,
    -- The latest version's number and state, and its figures (for lists).
    current_version INTEGER NOT NULL,
    state TEXT NOT NULL,
    total INTEGER NOT NULL,
    line_count INTEGER NOT NULL,
    -- The latest signed version and its total (null until one is signed).
    signed_version INTEGER,
    signed_total INTEGER,
    signed_at TEXT,
    cancel_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX orders_account ON orders(account_id, id);
CREATE INDEX orders_opportunity ON orders(opportunity_id) WHERE opportunity_id IS NOT NULL;
CREATE INDEX orders_quote ON orders(quote_id) WHERE quote_id IS NOT NULL;
CREATE INDEX orders_owner ON orders(owner_id, updated_at, id);
CREATE INDEX orders_updated ON orders(updated_at, id);
CREATE INDEX orders_delivery ON orders(requested_delivery, id);

CREATE TABLE order_versions (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    version_no INTEGER NOT NULL,
    state TEXT NOT NULL,
    contract_no TEXT,
    requested_delivery TEXT,
    -- JSON: [{"kind": "advance", "percent_bp": 3000, "days": 0, "event": "order"}, …]
    payment_terms TEXT NOT NULL,
    notes TEXT,
    total INTEGER NOT NULL,
    total_excl INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    cost INTEGER NOT NULL,
    -- Every line's product has a standard cost (the margin is complete).
    cost_complete INTEGER NOT NULL,
    -- Signed at once: the author's own sign-off authority covers it.
    within_authority INTEGER,
    approval_id INTEGER,
    returned_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    submitted_at TEXT,
    signed_at TEXT,
    closed_at TEXT,
    UNIQUE (order_id, version_no)
);
CREATE INDEX order_versions_approval ON order_versions(approval_id) WHERE approval_id IS NOT NULL;

CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES order_versions(id),
    position INTEGER NOT NULL,
    product_id INTEGER,
    product_code TEXT,
    description TEXT NOT NULL,
    specification TEXT,
    unit TEXT NOT NULL,
    -- Thousandths of a unit.
    quantity INTEGER NOT NULL,
    list_price INTEGER,
    unit_price INTEGER NOT NULL,
    discount_bp INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    tax_rate_bp INTEGER NOT NULL,
    amount_excl INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    -- quantity × the product's standard cost when the line was priced (null: no cost known).
    cost INTEGER
);
CREATE INDEX order_lines_version ON order_lines(version_id, position);

CREATE TABLE account_invoicing (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    title TEXT NOT NULL,
    tax_number TEXT NOT NULL,
    address TEXT,
    phone TEXT,
    bank TEXT,
    bank_account TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
