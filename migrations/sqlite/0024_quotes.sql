-- Quotes and bids (DOMAIN.md M6; seed 000 S-4, S-5). A quote belongs to an opportunity; each
-- revision is a version with its own lines, totals and state (an approved or sent version never
-- changes). The quote row carries its latest version's figures for lists. Bids are the tender
-- decision of an opportunity; negotiation rounds its record of 商务谈判.
ALTER TABLE approvals ADD COLUMN branch_id INTEGER;

CREATE TABLE quotes (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    owner_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    -- The latest version's number and state, and its figures (for lists).
    current_version INTEGER NOT NULL,
    state TEXT NOT NULL,
    quote_date TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    total INTEGER NOT NULL,
    discount_bp INTEGER NOT NULL,
    below_floor INTEGER NOT NULL,
    line_count INTEGER NOT NULL,
    -- The opportunity's current quote (one per opportunity).
    is_current INTEGER NOT NULL DEFAULT 0,
    sent_version INTEGER,
    lost_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX quotes_opportunity ON quotes(opportunity_id, id);
CREATE INDEX quotes_owner ON quotes(owner_id, updated_at, id);
-- A team's or HQ's list, newest first: walked in order, each quote's scope probed.
CREATE INDEX quotes_updated ON quotes(updated_at, id);
CREATE INDEX quotes_account ON quotes(account_id);
CREATE INDEX quotes_expiring ON quotes(valid_until) WHERE state IN ('draft', 'pending', 'approved', 'sent');
CREATE UNIQUE INDEX quotes_current ON quotes(opportunity_id) WHERE is_current = 1;

CREATE TABLE quote_versions (
    id INTEGER PRIMARY KEY,
    quote_id INTEGER NOT NULL REFERENCES quotes(id),
    version_no INTEGER NOT NULL,
    state TEXT NOT NULL,
    contact_id INTEGER REFERENCES contacts(id),
    contact_name TEXT,
    contact_title TEXT,
    phone TEXT,
    fax TEXT,
    quote_date TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    -- JSON: [{"kind": "advance", "percent_bp": 3000, "days": 0}, …]
    payment_terms TEXT NOT NULL,
    payment_note TEXT,
    delivery_terms TEXT,
    notes TEXT,
    total INTEGER NOT NULL,
    total_excl INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    list_total INTEGER NOT NULL,
    discount_bp INTEGER NOT NULL,
    max_line_discount_bp INTEGER NOT NULL,
    quote_discount_bp INTEGER NOT NULL,
    below_floor INTEGER NOT NULL,
    cost INTEGER NOT NULL,
    -- Within the author's authority when submitted (no request needed).
    within_authority INTEGER,
    approval_id INTEGER,
    returned_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    submitted_at TEXT,
    approved_at TEXT,
    sent_at TEXT,
    sent_by TEXT,
    closed_at TEXT,
    UNIQUE (quote_id, version_no)
);

CREATE TABLE quote_lines (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES quote_versions(id),
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
    floor_price INTEGER,
    below_floor INTEGER NOT NULL,
    cost INTEGER
);
CREATE INDEX quote_lines_version ON quote_lines(version_id, position);

CREATE TABLE bids (
    id INTEGER PRIMARY KEY,
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    owner_id INTEGER NOT NULL REFERENCES users(id),
    issuer TEXT NOT NULL,
    tender_no TEXT,
    questions_due TEXT,
    submission_due TEXT NOT NULL,
    bond_amount INTEGER,
    bond_return_on TEXT,
    -- pending (not decided), bid, no_bid
    decision TEXT NOT NULL,
    decision_reasons TEXT,
    bid_price INTEGER,
    below_floor INTEGER NOT NULL DEFAULT 0,
    terms_outside_policy INTEGER NOT NULL DEFAULT 0,
    exception_note TEXT,
    -- none (within authority), pending, approved, rejected, returned, cancelled
    exception_state TEXT NOT NULL DEFAULT 'none',
    approval_id INTEGER,
    -- won, lost, abandoned (null while open)
    result TEXT,
    winner TEXT,
    winning_price INTEGER,
    result_note TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX bids_opportunity ON bids(opportunity_id, id);
CREATE INDEX bids_owner_due ON bids(owner_id, submission_due) WHERE result IS NULL;

CREATE TABLE negotiation_rounds (
    id INTEGER PRIMARY KEY,
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    held_on TEXT NOT NULL,
    participants TEXT NOT NULL,
    our_position TEXT,
    their_position TEXT,
    concessions TEXT,
    next_step TEXT,
    -- An escalation: the discount asked beyond the author's authority, its reason, the request
    -- and its outcome (pending, approved, rejected, returned, cancelled).
    asked_discount_bp INTEGER,
    escalation_reason TEXT,
    approval_id INTEGER,
    outcome TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX negotiation_rounds_opportunity ON negotiation_rounds(opportunity_id, held_on);
