-- Issue 26 item 5: CHECK constraints on the codes, amounts and flags the application writes.
--
-- Enumerations (statuses, stages, kinds, roles, tiers, grades, …) accept exactly the codes of
-- the domain's enums (src/domain/*.rs, src/db/codes.rs) and of the use cases' state lists
-- (src/app/**); amounts in fen that can never be negative are >= 0 (invoices, profits,
-- differences and adjustments, which can, are left alone); 0/1 flags are 0 or 1. NULL passes
-- where the column allows it. Each constraint is named <table>_<column>_check, the same on
-- both backends (docs/REPORTING.md lists them).

-- SQLite cannot add a CHECK constraint to an existing table without rebuilding it, and
-- rebuilding tables that foreign keys point at inside the migration's transaction is unsafe
-- (foreign_keys cannot be switched off there). So each rule is enforced by triggers instead: a
-- BEFORE INSERT trigger and a BEFORE UPDATE OF <columns> trigger per table, each statement
-- `SELECT RAISE(ABORT, 'CHECK constraint failed: <table>_<column>_check') WHERE <value breaks
-- the rule>`, so the write is refused with the same constraint name as on PostgreSQL. The
-- triggers check new writes; they do not re-check the rows already stored (the application
-- never wrote other codes: its enums refuse to read them back).

CREATE TRIGGER org_units_checks_insert BEFORE INSERT ON org_units
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: org_units_kind_check') WHERE NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('hq', 'region', 'branch'));
END;

CREATE TRIGGER org_units_checks_update BEFORE UPDATE OF kind ON org_units
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: org_units_kind_check') WHERE NEW.kind IS NOT OLD.kind AND NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('hq', 'region', 'branch'));
END;

CREATE TRIGGER users_checks_insert BEFORE INSERT ON users
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_role_check') WHERE NEW.role IS NOT NULL AND NOT (NEW.role IN ('admin', 'gm', 'marketing_director', 'sales_dept_manager', 'ka_director', 'ka_manager', 'ka_rep', 'inside_sales', 'branch_manager', 'commercial_manager', 'finance_manager', 'logistics_manager', 'marketing'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_sales_type_check') WHERE NEW.sales_type IS NOT NULL AND NOT (NEW.sales_type IN ('ae', 'sr'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_active_check') WHERE NEW.active IS NOT NULL AND NOT (NEW.active IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_locale_check') WHERE NEW.locale IS NOT NULL AND NOT (NEW.locale IN ('zh-CN', 'en'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_notify_email_check') WHERE NEW.notify_email IS NOT NULL AND NOT (NEW.notify_email IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_notify_webhook_check') WHERE NEW.notify_webhook IS NOT NULL AND NOT (NEW.notify_webhook IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_money_unit_check') WHERE NEW.money_unit IS NOT NULL AND NOT (NEW.money_unit IN ('yuan', 'wan'));
END;

CREATE TRIGGER users_checks_update BEFORE UPDATE OF role, sales_type, active, locale, notify_email, notify_webhook, money_unit ON users
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_role_check') WHERE NEW.role IS NOT OLD.role AND NEW.role IS NOT NULL AND NOT (NEW.role IN ('admin', 'gm', 'marketing_director', 'sales_dept_manager', 'ka_director', 'ka_manager', 'ka_rep', 'inside_sales', 'branch_manager', 'commercial_manager', 'finance_manager', 'logistics_manager', 'marketing'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_sales_type_check') WHERE NEW.sales_type IS NOT OLD.sales_type AND NEW.sales_type IS NOT NULL AND NOT (NEW.sales_type IN ('ae', 'sr'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_active_check') WHERE NEW.active IS NOT OLD.active AND NEW.active IS NOT NULL AND NOT (NEW.active IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_locale_check') WHERE NEW.locale IS NOT OLD.locale AND NEW.locale IS NOT NULL AND NOT (NEW.locale IN ('zh-CN', 'en'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_notify_email_check') WHERE NEW.notify_email IS NOT OLD.notify_email AND NEW.notify_email IS NOT NULL AND NOT (NEW.notify_email IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_notify_webhook_check') WHERE NEW.notify_webhook IS NOT OLD.notify_webhook AND NEW.notify_webhook IS NOT NULL AND NOT (NEW.notify_webhook IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_money_unit_check') WHERE NEW.money_unit IS NOT OLD.money_unit AND NEW.money_unit IS NOT NULL AND NOT (NEW.money_unit IN ('yuan', 'wan'));
END;

CREATE TRIGGER accounts_checks_insert BEFORE INSERT ON accounts
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_industry_check') WHERE NEW.industry IS NOT NULL AND NOT (NEW.industry IN ('government', 'military', 'enterprise', 'education', 'finance', 'power', 'telecom', 'other'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_level_check') WHERE NEW.level IS NOT NULL AND NOT (NEW.level IN ('L1', 'L2', 'L3'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_status_check') WHERE NEW.status IS NOT NULL AND NOT (NEW.status IN ('prospect', 'candidate', 'key_account', 'downgraded'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_tier_check') WHERE NEW.tier IS NOT NULL AND NOT (NEW.tier IN ('strategic', 'A', 'B', 'C'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_rad_class_check') WHERE NEW.rad_class IS NOT NULL AND NOT (NEW.rad_class IN ('R1', 'R2', 'R3', 'D1', 'D2', 'D3', 'A1', 'A2', 'A3'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_credit_grade_check') WHERE NEW.credit_grade IS NOT NULL AND NOT (NEW.credit_grade IN ('green', 'yellow', 'red', 'black'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_buying_power_check') WHERE NEW.buying_power IS NOT NULL AND NOT (NEW.buying_power >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_sales_12m_entered_check') WHERE NEW.sales_12m_entered IS NOT NULL AND NOT (NEW.sales_12m_entered >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_pipeline_open_check') WHERE NEW.pipeline_open IS NOT NULL AND NOT (NEW.pipeline_open >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_credit_limit_check') WHERE NEW.credit_limit IS NOT NULL AND NOT (NEW.credit_limit >= 0);
END;

CREATE TRIGGER accounts_checks_update BEFORE UPDATE OF industry, level, status, tier, rad_class, credit_grade, buying_power, sales_12m_entered, pipeline_open, credit_limit ON accounts
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_industry_check') WHERE NEW.industry IS NOT OLD.industry AND NEW.industry IS NOT NULL AND NOT (NEW.industry IN ('government', 'military', 'enterprise', 'education', 'finance', 'power', 'telecom', 'other'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_level_check') WHERE NEW.level IS NOT OLD.level AND NEW.level IS NOT NULL AND NOT (NEW.level IN ('L1', 'L2', 'L3'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_status_check') WHERE NEW.status IS NOT OLD.status AND NEW.status IS NOT NULL AND NOT (NEW.status IN ('prospect', 'candidate', 'key_account', 'downgraded'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_tier_check') WHERE NEW.tier IS NOT OLD.tier AND NEW.tier IS NOT NULL AND NOT (NEW.tier IN ('strategic', 'A', 'B', 'C'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_rad_class_check') WHERE NEW.rad_class IS NOT OLD.rad_class AND NEW.rad_class IS NOT NULL AND NOT (NEW.rad_class IN ('R1', 'R2', 'R3', 'D1', 'D2', 'D3', 'A1', 'A2', 'A3'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_credit_grade_check') WHERE NEW.credit_grade IS NOT OLD.credit_grade AND NEW.credit_grade IS NOT NULL AND NOT (NEW.credit_grade IN ('green', 'yellow', 'red', 'black'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_buying_power_check') WHERE NEW.buying_power IS NOT OLD.buying_power AND NEW.buying_power IS NOT NULL AND NOT (NEW.buying_power >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_sales_12m_entered_check') WHERE NEW.sales_12m_entered IS NOT OLD.sales_12m_entered AND NEW.sales_12m_entered IS NOT NULL AND NOT (NEW.sales_12m_entered >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_pipeline_open_check') WHERE NEW.pipeline_open IS NOT OLD.pipeline_open AND NEW.pipeline_open IS NOT NULL AND NOT (NEW.pipeline_open >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: accounts_credit_limit_check') WHERE NEW.credit_limit IS NOT OLD.credit_limit AND NEW.credit_limit IS NOT NULL AND NOT (NEW.credit_limit >= 0);
END;

CREATE TRIGGER account_access_checks_insert BEFORE INSERT ON account_access
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_access_via_check') WHERE NEW.via IS NOT NULL AND NOT (NEW.via IN ('owner', 'inside_owner', 'ka_manager', 'team'));
END;

CREATE TRIGGER account_access_checks_update BEFORE UPDATE OF via ON account_access
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_access_via_check') WHERE NEW.via IS NOT OLD.via AND NEW.via IS NOT NULL AND NOT (NEW.via IN ('owner', 'inside_owner', 'ka_manager', 'team'));
END;

CREATE TRIGGER contacts_checks_insert BEFORE INSERT ON contacts
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: contacts_gender_check') WHERE NEW.gender IS NOT NULL AND NOT (NEW.gender IN ('male', 'female'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: contacts_decision_role_check') WHERE NEW.decision_role IS NOT NULL AND NOT (NEW.decision_role IN ('decision_maker', 'policy_maker', 'influencer', 'end_user', 'gatekeeper'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: contacts_attitude_check') WHERE NEW.attitude IS NOT NULL AND NOT (NEW.attitude IN ('supporter', 'neutral', 'opponent'));
END;

CREATE TRIGGER contacts_checks_update BEFORE UPDATE OF gender, decision_role, attitude ON contacts
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: contacts_gender_check') WHERE NEW.gender IS NOT OLD.gender AND NEW.gender IS NOT NULL AND NOT (NEW.gender IN ('male', 'female'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: contacts_decision_role_check') WHERE NEW.decision_role IS NOT OLD.decision_role AND NEW.decision_role IS NOT NULL AND NOT (NEW.decision_role IN ('decision_maker', 'policy_maker', 'influencer', 'end_user', 'gatekeeper'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: contacts_attitude_check') WHERE NEW.attitude IS NOT OLD.attitude AND NEW.attitude IS NOT NULL AND NOT (NEW.attitude IN ('supporter', 'neutral', 'opponent'));
END;

CREATE TRIGGER documents_checks_insert BEFORE INSERT ON documents
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: documents_doc_type_check') WHERE NEW.doc_type IS NOT NULL AND NOT (NEW.doc_type IN ('contract', 'proposal', 'quote', 'tender', 'minutes', 'other'));
END;

CREATE TRIGGER documents_checks_update BEFORE UPDATE OF doc_type ON documents
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: documents_doc_type_check') WHERE NEW.doc_type IS NOT OLD.doc_type AND NEW.doc_type IS NOT NULL AND NOT (NEW.doc_type IN ('contract', 'proposal', 'quote', 'tender', 'minutes', 'other'));
END;

CREATE TRIGGER account_status_changes_checks_insert BEFORE INSERT ON account_status_changes
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_status_changes_from_status_check') WHERE NEW.from_status IS NOT NULL AND NOT (NEW.from_status IN ('prospect', 'candidate', 'key_account', 'downgraded'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_status_changes_to_status_check') WHERE NEW.to_status IS NOT NULL AND NOT (NEW.to_status IN ('prospect', 'candidate', 'key_account', 'downgraded'));
END;

CREATE TRIGGER account_status_changes_checks_update BEFORE UPDATE OF from_status, to_status ON account_status_changes
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_status_changes_from_status_check') WHERE NEW.from_status IS NOT OLD.from_status AND NEW.from_status IS NOT NULL AND NOT (NEW.from_status IN ('prospect', 'candidate', 'key_account', 'downgraded'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_status_changes_to_status_check') WHERE NEW.to_status IS NOT OLD.to_status AND NEW.to_status IS NOT NULL AND NOT (NEW.to_status IN ('prospect', 'candidate', 'key_account', 'downgraded'));
END;

CREATE TRIGGER opportunities_checks_insert BEFORE INSERT ON opportunities
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunities_stage_check') WHERE NEW.stage IS NOT NULL AND NOT (NEW.stage IN ('identified', 'contacted', 'qualified', 'developed', 'committed', 'won', 'lost'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunities_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunities_booked_amount_check') WHERE NEW.booked_amount IS NOT NULL AND NOT (NEW.booked_amount >= 0);
END;

CREATE TRIGGER opportunities_checks_update BEFORE UPDATE OF stage, amount, booked_amount ON opportunities
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunities_stage_check') WHERE NEW.stage IS NOT OLD.stage AND NEW.stage IS NOT NULL AND NOT (NEW.stage IN ('identified', 'contacted', 'qualified', 'developed', 'committed', 'won', 'lost'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunities_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunities_booked_amount_check') WHERE NEW.booked_amount IS NOT OLD.booked_amount AND NEW.booked_amount IS NOT NULL AND NOT (NEW.booked_amount >= 0);
END;

CREATE TRIGGER opportunity_history_checks_insert BEFORE INSERT ON opportunity_history
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunity_history_from_stage_check') WHERE NEW.from_stage IS NOT NULL AND NOT (NEW.from_stage IN ('identified', 'contacted', 'qualified', 'developed', 'committed', 'won', 'lost'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunity_history_stage_check') WHERE NEW.stage IS NOT NULL AND NOT (NEW.stage IN ('identified', 'contacted', 'qualified', 'developed', 'committed', 'won', 'lost'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunity_history_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunity_history_override_check') WHERE NEW.override IS NOT NULL AND NOT (NEW.override IN (0, 1));
END;

CREATE TRIGGER opportunity_history_checks_update BEFORE UPDATE OF from_stage, stage, amount, override ON opportunity_history
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunity_history_from_stage_check') WHERE NEW.from_stage IS NOT OLD.from_stage AND NEW.from_stage IS NOT NULL AND NOT (NEW.from_stage IN ('identified', 'contacted', 'qualified', 'developed', 'committed', 'won', 'lost'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunity_history_stage_check') WHERE NEW.stage IS NOT OLD.stage AND NEW.stage IS NOT NULL AND NOT (NEW.stage IN ('identified', 'contacted', 'qualified', 'developed', 'committed', 'won', 'lost'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunity_history_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: opportunity_history_override_check') WHERE NEW.override IS NOT OLD.override AND NEW.override IS NOT NULL AND NOT (NEW.override IN (0, 1));
END;

CREATE TRIGGER quotas_checks_insert BEFORE INSERT ON quotas
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: quotas_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER quotas_checks_update BEFORE UPDATE OF amount ON quotas
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: quotas_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER forecast_lines_checks_insert BEFORE INSERT ON forecast_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: forecast_lines_commit_amount_check') WHERE NEW.commit_amount IS NOT NULL AND NOT (NEW.commit_amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: forecast_lines_best_amount_check') WHERE NEW.best_amount IS NOT NULL AND NOT (NEW.best_amount >= 0);
END;

CREATE TRIGGER forecast_lines_checks_update BEFORE UPDATE OF commit_amount, best_amount ON forecast_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: forecast_lines_commit_amount_check') WHERE NEW.commit_amount IS NOT OLD.commit_amount AND NEW.commit_amount IS NOT NULL AND NOT (NEW.commit_amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: forecast_lines_best_amount_check') WHERE NEW.best_amount IS NOT OLD.best_amount AND NEW.best_amount IS NOT NULL AND NOT (NEW.best_amount >= 0);
END;

CREATE TRIGGER activities_checks_insert BEFORE INSERT ON activities
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_kind_check') WHERE NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('visit', 'phone', 'email', 'meeting', 'ob_call', 'ib_call', 'other'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_status_check') WHERE NEW.status IS NOT NULL AND NOT (NEW.status IN ('planned', 'done'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_outcome_check') WHERE NEW.outcome IS NOT NULL AND NOT (NEW.outcome IN ('opportunity_found', 'opportunity_advanced', 'problem_solved', 'none'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_customer_attitude_check') WHERE NEW.customer_attitude IS NOT NULL AND NOT (NEW.customer_attitude IN ('warm', 'normal', 'cold'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_purpose_check') WHERE NEW.purpose IS NOT NULL AND NOT (NEW.purpose IN ('executive_visit', 'technical_exchange'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_effective_check') WHERE NEW.effective IS NOT NULL AND NOT (NEW.effective IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_checked_in_check') WHERE NEW.checked_in IS NOT NULL AND NOT (NEW.checked_in IN (0, 1));
END;

CREATE TRIGGER activities_checks_update BEFORE UPDATE OF kind, status, outcome, customer_attitude, purpose, effective, checked_in ON activities
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_kind_check') WHERE NEW.kind IS NOT OLD.kind AND NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('visit', 'phone', 'email', 'meeting', 'ob_call', 'ib_call', 'other'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_status_check') WHERE NEW.status IS NOT OLD.status AND NEW.status IS NOT NULL AND NOT (NEW.status IN ('planned', 'done'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_outcome_check') WHERE NEW.outcome IS NOT OLD.outcome AND NEW.outcome IS NOT NULL AND NOT (NEW.outcome IN ('opportunity_found', 'opportunity_advanced', 'problem_solved', 'none'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_customer_attitude_check') WHERE NEW.customer_attitude IS NOT OLD.customer_attitude AND NEW.customer_attitude IS NOT NULL AND NOT (NEW.customer_attitude IN ('warm', 'normal', 'cold'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_purpose_check') WHERE NEW.purpose IS NOT OLD.purpose AND NEW.purpose IS NOT NULL AND NOT (NEW.purpose IN ('executive_visit', 'technical_exchange'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_effective_check') WHERE NEW.effective IS NOT OLD.effective AND NEW.effective IS NOT NULL AND NOT (NEW.effective IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: activities_checked_in_check') WHERE NEW.checked_in IS NOT OLD.checked_in AND NEW.checked_in IS NOT NULL AND NOT (NEW.checked_in IN (0, 1));
END;

CREATE TRIGGER activity_contacts_checks_insert BEFORE INSERT ON activity_contacts
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: activity_contacts_attitude_check') WHERE NEW.attitude IS NOT NULL AND NOT (NEW.attitude IN ('supporter', 'neutral', 'opponent'));
END;

CREATE TRIGGER activity_contacts_checks_update BEFORE UPDATE OF attitude ON activity_contacts
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: activity_contacts_attitude_check') WHERE NEW.attitude IS NOT OLD.attitude AND NEW.attitude IS NOT NULL AND NOT (NEW.attitude IN ('supporter', 'neutral', 'opponent'));
END;

CREATE TRIGGER visit_plans_checks_insert BEFORE INSERT ON visit_plans
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: visit_plans_status_check') WHERE NEW.status IS NOT NULL AND NOT (NEW.status IN ('submitted'));
END;

CREATE TRIGGER visit_plans_checks_update BEFORE UPDATE OF status ON visit_plans
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: visit_plans_status_check') WHERE NEW.status IS NOT OLD.status AND NEW.status IS NOT NULL AND NOT (NEW.status IN ('submitted'));
END;

CREATE TRIGGER approvals_checks_insert BEFORE INSERT ON approvals
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: approvals_flow_check') WHERE NEW.flow IS NOT NULL AND NOT (NEW.flow IN ('ka_screening', 'bid_exception', 'discount_exception', 'credit_change', 'service_request', 'suggestion', 'annual_plan', 'budget_exception', 'account_plan', 'negotiation_escalation', 'order_signoff', 'bad_debt_writeoff', 'ka_downgrade', 'service_evaluation', 'budget_plan', 'exec_resource'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: approvals_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('pending', 'approved', 'rejected', 'returned', 'cancelled'));
END;

CREATE TRIGGER approvals_checks_update BEFORE UPDATE OF flow, state ON approvals
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: approvals_flow_check') WHERE NEW.flow IS NOT OLD.flow AND NEW.flow IS NOT NULL AND NOT (NEW.flow IN ('ka_screening', 'bid_exception', 'discount_exception', 'credit_change', 'service_request', 'suggestion', 'annual_plan', 'budget_exception', 'account_plan', 'negotiation_escalation', 'order_signoff', 'bad_debt_writeoff', 'ka_downgrade', 'service_evaluation', 'budget_plan', 'exec_resource'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: approvals_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('pending', 'approved', 'rejected', 'returned', 'cancelled'));
END;

CREATE TRIGGER approval_steps_checks_insert BEFORE INSERT ON approval_steps
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: approval_steps_scope_check') WHERE NEW.scope IS NOT NULL AND NOT (NEW.scope IN ('hq', 'region', 'owner_manager', 'branch', 'region_ka'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: approval_steps_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('waiting', 'skipped', 'open', 'approved', 'rejected', 'returned', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: approval_steps_decision_check') WHERE NEW.decision IS NOT NULL AND NOT (NEW.decision IN ('approve', 'reject', 'return'));
END;

CREATE TRIGGER approval_steps_checks_update BEFORE UPDATE OF scope, state, decision ON approval_steps
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: approval_steps_scope_check') WHERE NEW.scope IS NOT OLD.scope AND NEW.scope IS NOT NULL AND NOT (NEW.scope IN ('hq', 'region', 'owner_manager', 'branch', 'region_ka'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: approval_steps_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('waiting', 'skipped', 'open', 'approved', 'rejected', 'returned', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: approval_steps_decision_check') WHERE NEW.decision IS NOT OLD.decision AND NEW.decision IS NOT NULL AND NOT (NEW.decision IN ('approve', 'reject', 'return'));
END;

CREATE TRIGGER products_checks_insert BEFORE INSERT ON products
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: products_list_price_check') WHERE NEW.list_price IS NOT NULL AND NOT (NEW.list_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: products_floor_price_check') WHERE NEW.floor_price IS NOT NULL AND NOT (NEW.floor_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: products_standard_cost_check') WHERE NEW.standard_cost IS NOT NULL AND NOT (NEW.standard_cost >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: products_active_check') WHERE NEW.active IS NOT NULL AND NOT (NEW.active IN (0, 1));
END;

CREATE TRIGGER products_checks_update BEFORE UPDATE OF list_price, floor_price, standard_cost, active ON products
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: products_list_price_check') WHERE NEW.list_price IS NOT OLD.list_price AND NEW.list_price IS NOT NULL AND NOT (NEW.list_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: products_floor_price_check') WHERE NEW.floor_price IS NOT OLD.floor_price AND NEW.floor_price IS NOT NULL AND NOT (NEW.floor_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: products_standard_cost_check') WHERE NEW.standard_cost IS NOT OLD.standard_cost AND NEW.standard_cost IS NOT NULL AND NOT (NEW.standard_cost >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: products_active_check') WHERE NEW.active IS NOT OLD.active AND NEW.active IS NOT NULL AND NOT (NEW.active IN (0, 1));
END;

CREATE TRIGGER quotes_checks_insert BEFORE INSERT ON quotes
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: quotes_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'pending', 'approved', 'sent', 'accepted', 'lost', 'expired', 'superseded'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: quotes_total_check') WHERE NEW.total IS NOT NULL AND NOT (NEW.total >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quotes_below_floor_check') WHERE NEW.below_floor IS NOT NULL AND NOT (NEW.below_floor IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: quotes_is_current_check') WHERE NEW.is_current IS NOT NULL AND NOT (NEW.is_current IN (0, 1));
END;

CREATE TRIGGER quotes_checks_update BEFORE UPDATE OF state, total, below_floor, is_current ON quotes
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: quotes_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'pending', 'approved', 'sent', 'accepted', 'lost', 'expired', 'superseded'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: quotes_total_check') WHERE NEW.total IS NOT OLD.total AND NEW.total IS NOT NULL AND NOT (NEW.total >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quotes_below_floor_check') WHERE NEW.below_floor IS NOT OLD.below_floor AND NEW.below_floor IS NOT NULL AND NOT (NEW.below_floor IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: quotes_is_current_check') WHERE NEW.is_current IS NOT OLD.is_current AND NEW.is_current IS NOT NULL AND NOT (NEW.is_current IN (0, 1));
END;

CREATE TRIGGER quote_versions_checks_insert BEFORE INSERT ON quote_versions
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_versions_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'pending', 'approved', 'sent', 'accepted', 'lost', 'expired', 'superseded'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_versions_total_check') WHERE NEW.total IS NOT NULL AND NOT (NEW.total >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_versions_list_total_check') WHERE NEW.list_total IS NOT NULL AND NOT (NEW.list_total >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_versions_below_floor_check') WHERE NEW.below_floor IS NOT NULL AND NOT (NEW.below_floor IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_versions_within_authority_check') WHERE NEW.within_authority IS NOT NULL AND NOT (NEW.within_authority IN (0, 1));
END;

CREATE TRIGGER quote_versions_checks_update BEFORE UPDATE OF state, total, list_total, below_floor, within_authority ON quote_versions
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_versions_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'pending', 'approved', 'sent', 'accepted', 'lost', 'expired', 'superseded'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_versions_total_check') WHERE NEW.total IS NOT OLD.total AND NEW.total IS NOT NULL AND NOT (NEW.total >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_versions_list_total_check') WHERE NEW.list_total IS NOT OLD.list_total AND NEW.list_total IS NOT NULL AND NOT (NEW.list_total >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_versions_below_floor_check') WHERE NEW.below_floor IS NOT OLD.below_floor AND NEW.below_floor IS NOT NULL AND NOT (NEW.below_floor IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_versions_within_authority_check') WHERE NEW.within_authority IS NOT OLD.within_authority AND NEW.within_authority IS NOT NULL AND NOT (NEW.within_authority IN (0, 1));
END;

CREATE TRIGGER quote_lines_checks_insert BEFORE INSERT ON quote_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_lines_list_price_check') WHERE NEW.list_price IS NOT NULL AND NOT (NEW.list_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_lines_unit_price_check') WHERE NEW.unit_price IS NOT NULL AND NOT (NEW.unit_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_lines_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_lines_below_floor_check') WHERE NEW.below_floor IS NOT NULL AND NOT (NEW.below_floor IN (0, 1));
END;

CREATE TRIGGER quote_lines_checks_update BEFORE UPDATE OF list_price, unit_price, amount, below_floor ON quote_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_lines_list_price_check') WHERE NEW.list_price IS NOT OLD.list_price AND NEW.list_price IS NOT NULL AND NOT (NEW.list_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_lines_unit_price_check') WHERE NEW.unit_price IS NOT OLD.unit_price AND NEW.unit_price IS NOT NULL AND NOT (NEW.unit_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_lines_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: quote_lines_below_floor_check') WHERE NEW.below_floor IS NOT OLD.below_floor AND NEW.below_floor IS NOT NULL AND NOT (NEW.below_floor IN (0, 1));
END;

CREATE TRIGGER bids_checks_insert BEFORE INSERT ON bids
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_decision_check') WHERE NEW.decision IS NOT NULL AND NOT (NEW.decision IN ('pending', 'bid', 'no_bid'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_exception_state_check') WHERE NEW.exception_state IS NOT NULL AND NOT (NEW.exception_state IN ('none', 'pending', 'approved', 'rejected', 'returned', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_result_check') WHERE NEW.result IS NOT NULL AND NOT (NEW.result IN ('won', 'lost', 'abandoned'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_bond_amount_check') WHERE NEW.bond_amount IS NOT NULL AND NOT (NEW.bond_amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_bid_price_check') WHERE NEW.bid_price IS NOT NULL AND NOT (NEW.bid_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_winning_price_check') WHERE NEW.winning_price IS NOT NULL AND NOT (NEW.winning_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_below_floor_check') WHERE NEW.below_floor IS NOT NULL AND NOT (NEW.below_floor IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_terms_outside_policy_check') WHERE NEW.terms_outside_policy IS NOT NULL AND NOT (NEW.terms_outside_policy IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_bond_above_limit_check') WHERE NEW.bond_above_limit IS NOT NULL AND NOT (NEW.bond_above_limit IN (0, 1));
END;

CREATE TRIGGER bids_checks_update BEFORE UPDATE OF decision, exception_state, result, bond_amount, bid_price, winning_price, below_floor, terms_outside_policy, bond_above_limit ON bids
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_decision_check') WHERE NEW.decision IS NOT OLD.decision AND NEW.decision IS NOT NULL AND NOT (NEW.decision IN ('pending', 'bid', 'no_bid'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_exception_state_check') WHERE NEW.exception_state IS NOT OLD.exception_state AND NEW.exception_state IS NOT NULL AND NOT (NEW.exception_state IN ('none', 'pending', 'approved', 'rejected', 'returned', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_result_check') WHERE NEW.result IS NOT OLD.result AND NEW.result IS NOT NULL AND NOT (NEW.result IN ('won', 'lost', 'abandoned'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_bond_amount_check') WHERE NEW.bond_amount IS NOT OLD.bond_amount AND NEW.bond_amount IS NOT NULL AND NOT (NEW.bond_amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_bid_price_check') WHERE NEW.bid_price IS NOT OLD.bid_price AND NEW.bid_price IS NOT NULL AND NOT (NEW.bid_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_winning_price_check') WHERE NEW.winning_price IS NOT OLD.winning_price AND NEW.winning_price IS NOT NULL AND NOT (NEW.winning_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_below_floor_check') WHERE NEW.below_floor IS NOT OLD.below_floor AND NEW.below_floor IS NOT NULL AND NOT (NEW.below_floor IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_terms_outside_policy_check') WHERE NEW.terms_outside_policy IS NOT OLD.terms_outside_policy AND NEW.terms_outside_policy IS NOT NULL AND NOT (NEW.terms_outside_policy IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: bids_bond_above_limit_check') WHERE NEW.bond_above_limit IS NOT OLD.bond_above_limit AND NEW.bond_above_limit IS NOT NULL AND NOT (NEW.bond_above_limit IN (0, 1));
END;

CREATE TRIGGER negotiation_rounds_checks_insert BEFORE INSERT ON negotiation_rounds
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: negotiation_rounds_outcome_check') WHERE NEW.outcome IS NOT NULL AND NOT (NEW.outcome IN ('pending', 'approved', 'rejected', 'returned', 'cancelled'));
END;

CREATE TRIGGER negotiation_rounds_checks_update BEFORE UPDATE OF outcome ON negotiation_rounds
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: negotiation_rounds_outcome_check') WHERE NEW.outcome IS NOT OLD.outcome AND NEW.outcome IS NOT NULL AND NOT (NEW.outcome IN ('pending', 'approved', 'rejected', 'returned', 'cancelled'));
END;

CREATE TRIGGER orders_checks_insert BEFORE INSERT ON orders
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: orders_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'pending', 'signed', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: orders_total_check') WHERE NEW.total IS NOT NULL AND NOT (NEW.total >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: orders_signed_total_check') WHERE NEW.signed_total IS NOT NULL AND NOT (NEW.signed_total >= 0);
END;

CREATE TRIGGER orders_checks_update BEFORE UPDATE OF state, total, signed_total ON orders
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: orders_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'pending', 'signed', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: orders_total_check') WHERE NEW.total IS NOT OLD.total AND NEW.total IS NOT NULL AND NOT (NEW.total >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: orders_signed_total_check') WHERE NEW.signed_total IS NOT OLD.signed_total AND NEW.signed_total IS NOT NULL AND NOT (NEW.signed_total >= 0);
END;

CREATE TRIGGER order_versions_checks_insert BEFORE INSERT ON order_versions
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_versions_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'pending', 'signed', 'cancelled', 'superseded'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_versions_total_check') WHERE NEW.total IS NOT NULL AND NOT (NEW.total >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_versions_cost_complete_check') WHERE NEW.cost_complete IS NOT NULL AND NOT (NEW.cost_complete IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_versions_within_authority_check') WHERE NEW.within_authority IS NOT NULL AND NOT (NEW.within_authority IN (0, 1));
END;

CREATE TRIGGER order_versions_checks_update BEFORE UPDATE OF state, total, cost_complete, within_authority ON order_versions
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_versions_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'pending', 'signed', 'cancelled', 'superseded'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_versions_total_check') WHERE NEW.total IS NOT OLD.total AND NEW.total IS NOT NULL AND NOT (NEW.total >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_versions_cost_complete_check') WHERE NEW.cost_complete IS NOT OLD.cost_complete AND NEW.cost_complete IS NOT NULL AND NOT (NEW.cost_complete IN (0, 1));
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_versions_within_authority_check') WHERE NEW.within_authority IS NOT OLD.within_authority AND NEW.within_authority IS NOT NULL AND NOT (NEW.within_authority IN (0, 1));
END;

CREATE TRIGGER order_lines_checks_insert BEFORE INSERT ON order_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_lines_list_price_check') WHERE NEW.list_price IS NOT NULL AND NOT (NEW.list_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_lines_unit_price_check') WHERE NEW.unit_price IS NOT NULL AND NOT (NEW.unit_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_lines_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER order_lines_checks_update BEFORE UPDATE OF list_price, unit_price, amount ON order_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_lines_list_price_check') WHERE NEW.list_price IS NOT OLD.list_price AND NEW.list_price IS NOT NULL AND NOT (NEW.list_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_lines_unit_price_check') WHERE NEW.unit_price IS NOT OLD.unit_price AND NEW.unit_price IS NOT NULL AND NOT (NEW.unit_price >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_lines_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER outbounds_checks_insert BEFORE INSERT ON outbounds
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: outbounds_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('prepared', 'shipped', 'delivered', 'accepted', 'cancelled'));
END;

CREATE TRIGGER outbounds_checks_update BEFORE UPDATE OF state ON outbounds
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: outbounds_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('prepared', 'shipped', 'delivered', 'accepted', 'cancelled'));
END;

CREATE TRIGGER order_fulfilment_checks_insert BEFORE INSERT ON order_fulfilment
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_fulfilment_open_check') WHERE NEW.open IS NOT NULL AND NOT (NEW.open IN (0, 1));
END;

CREATE TRIGGER order_fulfilment_checks_update BEFORE UPDATE OF open ON order_fulfilment
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_fulfilment_open_check') WHERE NEW.open IS NOT OLD.open AND NEW.open IS NOT NULL AND NOT (NEW.open IN (0, 1));
END;

CREATE TRIGGER receivables_checks_insert BEFORE INSERT ON receivables
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_kind_check') WHERE NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('advance', 'on_delivery', 'after_acceptance', 'retention'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_event_check') WHERE NEW.event IS NOT NULL AND NOT (NEW.event IN ('invoice', 'delivery', 'acceptance', 'order'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('scheduled', 'open', 'paid', 'written_off'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_paid_check') WHERE NEW.paid IS NOT NULL AND NOT (NEW.paid >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_written_off_check') WHERE NEW.written_off IS NOT NULL AND NOT (NEW.written_off >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_credited_check') WHERE NEW.credited IS NOT NULL AND NOT (NEW.credited >= 0);
END;

CREATE TRIGGER receivables_checks_update BEFORE UPDATE OF kind, event, state, amount, paid, written_off, credited ON receivables
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_kind_check') WHERE NEW.kind IS NOT OLD.kind AND NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('advance', 'on_delivery', 'after_acceptance', 'retention'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_event_check') WHERE NEW.event IS NOT OLD.event AND NEW.event IS NOT NULL AND NOT (NEW.event IN ('invoice', 'delivery', 'acceptance', 'order'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('scheduled', 'open', 'paid', 'written_off'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_paid_check') WHERE NEW.paid IS NOT OLD.paid AND NEW.paid IS NOT NULL AND NOT (NEW.paid >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_written_off_check') WHERE NEW.written_off IS NOT OLD.written_off AND NEW.written_off IS NOT NULL AND NOT (NEW.written_off >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: receivables_credited_check') WHERE NEW.credited IS NOT OLD.credited AND NEW.credited IS NOT NULL AND NOT (NEW.credited >= 0);
END;

CREATE TRIGGER payments_checks_insert BEFORE INSERT ON payments
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: payments_method_check') WHERE NEW.method IS NOT NULL AND NOT (NEW.method IN ('transfer', 'acceptance', 'cheque', 'cash', 'other'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: payments_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: payments_unallocated_check') WHERE NEW.unallocated IS NOT NULL AND NOT (NEW.unallocated >= 0);
END;

CREATE TRIGGER payments_checks_update BEFORE UPDATE OF method, amount, unallocated ON payments
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: payments_method_check') WHERE NEW.method IS NOT OLD.method AND NEW.method IS NOT NULL AND NOT (NEW.method IN ('transfer', 'acceptance', 'cheque', 'cash', 'other'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: payments_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: payments_unallocated_check') WHERE NEW.unallocated IS NOT OLD.unallocated AND NEW.unallocated IS NOT NULL AND NOT (NEW.unallocated >= 0);
END;

CREATE TRIGGER allocations_checks_insert BEFORE INSERT ON allocations
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: allocations_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER allocations_checks_update BEFORE UPDATE OF amount ON allocations
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: allocations_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER collection_contacts_checks_insert BEFORE INSERT ON collection_contacts
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: collection_contacts_channel_check') WHERE NEW.channel IS NOT NULL AND NOT (NEW.channel IN ('phone', 'visit', 'letter', 'email', 'message'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: collection_contacts_level_check') WHERE NEW.level IS NOT NULL AND NOT (NEW.level IN ('remind', 'owner_calls', 'manager_calls', 'finance_letter', 'hold'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: collection_contacts_promised_amount_check') WHERE NEW.promised_amount IS NOT NULL AND NOT (NEW.promised_amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: collection_contacts_paid_at_contact_check') WHERE NEW.paid_at_contact IS NOT NULL AND NOT (NEW.paid_at_contact >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: collection_contacts_judged_check') WHERE NEW.judged IS NOT NULL AND NOT (NEW.judged IN (0, 1));
END;

CREATE TRIGGER collection_contacts_checks_update BEFORE UPDATE OF channel, level, promised_amount, paid_at_contact, judged ON collection_contacts
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: collection_contacts_channel_check') WHERE NEW.channel IS NOT OLD.channel AND NEW.channel IS NOT NULL AND NOT (NEW.channel IN ('phone', 'visit', 'letter', 'email', 'message'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: collection_contacts_level_check') WHERE NEW.level IS NOT OLD.level AND NEW.level IS NOT NULL AND NOT (NEW.level IN ('remind', 'owner_calls', 'manager_calls', 'finance_letter', 'hold'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: collection_contacts_promised_amount_check') WHERE NEW.promised_amount IS NOT OLD.promised_amount AND NEW.promised_amount IS NOT NULL AND NOT (NEW.promised_amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: collection_contacts_paid_at_contact_check') WHERE NEW.paid_at_contact IS NOT OLD.paid_at_contact AND NEW.paid_at_contact IS NOT NULL AND NOT (NEW.paid_at_contact >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: collection_contacts_judged_check') WHERE NEW.judged IS NOT OLD.judged AND NEW.judged IS NOT NULL AND NOT (NEW.judged IN (0, 1));
END;

CREATE TRIGGER order_holds_checks_insert BEFORE INSERT ON order_holds
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_holds_kind_check') WHERE NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('general', 'dunning', 'credit'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_holds_credit_stage_check') WHERE NEW.credit_stage IS NOT NULL AND NOT (NEW.credit_stage IN ('submit', 'signoff', 'delivery'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_holds_decision_check') WHERE NEW.decision IS NOT NULL AND NOT (NEW.decision IN ('released', 'rejected'));
END;

CREATE TRIGGER order_holds_checks_update BEFORE UPDATE OF kind, credit_stage, decision ON order_holds
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_holds_kind_check') WHERE NEW.kind IS NOT OLD.kind AND NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('general', 'dunning', 'credit'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_holds_credit_stage_check') WHERE NEW.credit_stage IS NOT OLD.credit_stage AND NEW.credit_stage IS NOT NULL AND NOT (NEW.credit_stage IN ('submit', 'signoff', 'delivery'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_holds_decision_check') WHERE NEW.decision IS NOT OLD.decision AND NEW.decision IS NOT NULL AND NOT (NEW.decision IN ('released', 'rejected'));
END;

CREATE TRIGGER writeoffs_checks_insert BEFORE INSERT ON writeoffs
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: writeoffs_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('pending', 'approved', 'rejected', 'returned', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: writeoffs_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER writeoffs_checks_update BEFORE UPDATE OF state, amount ON writeoffs
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: writeoffs_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('pending', 'approved', 'rejected', 'returned', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: writeoffs_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER order_returns_checks_insert BEFORE INSERT ON order_returns
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_returns_value_check') WHERE NEW.value IS NOT NULL AND NOT (NEW.value >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_returns_reduced_check') WHERE NEW.reduced IS NOT NULL AND NOT (NEW.reduced >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_returns_to_credit_check') WHERE NEW.to_credit IS NOT NULL AND NOT (NEW.to_credit >= 0);
END;

CREATE TRIGGER order_returns_checks_update BEFORE UPDATE OF value, reduced, to_credit ON order_returns
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_returns_value_check') WHERE NEW.value IS NOT OLD.value AND NEW.value IS NOT NULL AND NOT (NEW.value >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_returns_reduced_check') WHERE NEW.reduced IS NOT OLD.reduced AND NEW.reduced IS NOT NULL AND NOT (NEW.reduced >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_returns_to_credit_check') WHERE NEW.to_credit IS NOT OLD.to_credit AND NEW.to_credit IS NOT NULL AND NOT (NEW.to_credit >= 0);
END;

CREATE TRIGGER order_return_lines_checks_insert BEFORE INSERT ON order_return_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_return_lines_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER order_return_lines_checks_update BEFORE UPDATE OF amount ON order_return_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: order_return_lines_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER bank_statement_lines_checks_insert BEFORE INSERT ON bank_statement_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: bank_statement_lines_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('proposed', 'unmatched', 'confirmed', 'ignored'));
END;

CREATE TRIGGER bank_statement_lines_checks_update BEFORE UPDATE OF state ON bank_statement_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: bank_statement_lines_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('proposed', 'unmatched', 'confirmed', 'ignored'));
END;

CREATE TRIGGER credit_triggers_checks_insert BEFORE INSERT ON credit_triggers
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_triggers_kind_check') WHERE NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('downgrade', 'computed_grade', 'proposal', 'dunning_90'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_triggers_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('open', 'filed', 'closed'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_triggers_proposed_grade_check') WHERE NEW.proposed_grade IS NOT NULL AND NOT (NEW.proposed_grade IN ('green', 'yellow', 'red', 'black'));
END;

CREATE TRIGGER credit_triggers_checks_update BEFORE UPDATE OF kind, state, proposed_grade ON credit_triggers
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_triggers_kind_check') WHERE NEW.kind IS NOT OLD.kind AND NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('downgrade', 'computed_grade', 'proposal', 'dunning_90'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_triggers_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('open', 'filed', 'closed'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_triggers_proposed_grade_check') WHERE NEW.proposed_grade IS NOT OLD.proposed_grade AND NEW.proposed_grade IS NOT NULL AND NOT (NEW.proposed_grade IN ('green', 'yellow', 'red', 'black'));
END;

CREATE TRIGGER credit_change_requests_checks_insert BEFORE INSERT ON credit_change_requests
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_change_requests_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('pending', 'approved', 'rejected', 'returned', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_change_requests_from_grade_check') WHERE NEW.from_grade IS NOT NULL AND NOT (NEW.from_grade IN ('green', 'yellow', 'red', 'black'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_change_requests_to_grade_check') WHERE NEW.to_grade IS NOT NULL AND NOT (NEW.to_grade IN ('green', 'yellow', 'red', 'black'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_change_requests_from_limit_check') WHERE NEW.from_limit IS NOT NULL AND NOT (NEW.from_limit >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_change_requests_to_limit_check') WHERE NEW.to_limit IS NOT NULL AND NOT (NEW.to_limit >= 0);
END;

CREATE TRIGGER credit_change_requests_checks_update BEFORE UPDATE OF state, from_grade, to_grade, from_limit, to_limit ON credit_change_requests
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_change_requests_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('pending', 'approved', 'rejected', 'returned', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_change_requests_from_grade_check') WHERE NEW.from_grade IS NOT OLD.from_grade AND NEW.from_grade IS NOT NULL AND NOT (NEW.from_grade IN ('green', 'yellow', 'red', 'black'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_change_requests_to_grade_check') WHERE NEW.to_grade IS NOT OLD.to_grade AND NEW.to_grade IS NOT NULL AND NOT (NEW.to_grade IN ('green', 'yellow', 'red', 'black'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_change_requests_from_limit_check') WHERE NEW.from_limit IS NOT OLD.from_limit AND NEW.from_limit IS NOT NULL AND NOT (NEW.from_limit >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_change_requests_to_limit_check') WHERE NEW.to_limit IS NOT OLD.to_limit AND NEW.to_limit IS NOT NULL AND NOT (NEW.to_limit >= 0);
END;

CREATE TRIGGER credit_grade_changes_checks_insert BEFORE INSERT ON credit_grade_changes
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_grade_changes_from_grade_check') WHERE NEW.from_grade IS NOT NULL AND NOT (NEW.from_grade IN ('green', 'yellow', 'red', 'black'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_grade_changes_to_grade_check') WHERE NEW.to_grade IS NOT NULL AND NOT (NEW.to_grade IN ('green', 'yellow', 'red', 'black'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_grade_changes_from_limit_check') WHERE NEW.from_limit IS NOT NULL AND NOT (NEW.from_limit >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_grade_changes_to_limit_check') WHERE NEW.to_limit IS NOT NULL AND NOT (NEW.to_limit >= 0);
END;

CREATE TRIGGER credit_grade_changes_checks_update BEFORE UPDATE OF from_grade, to_grade, from_limit, to_limit ON credit_grade_changes
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_grade_changes_from_grade_check') WHERE NEW.from_grade IS NOT OLD.from_grade AND NEW.from_grade IS NOT NULL AND NOT (NEW.from_grade IN ('green', 'yellow', 'red', 'black'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_grade_changes_to_grade_check') WHERE NEW.to_grade IS NOT OLD.to_grade AND NEW.to_grade IS NOT NULL AND NOT (NEW.to_grade IN ('green', 'yellow', 'red', 'black'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_grade_changes_from_limit_check') WHERE NEW.from_limit IS NOT OLD.from_limit AND NEW.from_limit IS NOT NULL AND NOT (NEW.from_limit >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: credit_grade_changes_to_limit_check') WHERE NEW.to_limit IS NOT OLD.to_limit AND NEW.to_limit IS NOT NULL AND NOT (NEW.to_limit >= 0);
END;

CREATE TRIGGER account_plans_checks_insert BEFORE INSERT ON account_plans
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_plans_tier_check') WHERE NEW.tier IS NOT NULL AND NOT (NEW.tier IN ('strategic', 'A', 'B', 'C'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_plans_phase_check') WHERE NEW.phase IS NOT NULL AND NOT (NEW.phase IN ('preparation', 'drafting', 'review', 'execution'));
END;

CREATE TRIGGER account_plans_checks_update BEFORE UPDATE OF tier, phase ON account_plans
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_plans_tier_check') WHERE NEW.tier IS NOT OLD.tier AND NEW.tier IS NOT NULL AND NOT (NEW.tier IN ('strategic', 'A', 'B', 'C'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_plans_phase_check') WHERE NEW.phase IS NOT OLD.phase AND NEW.phase IS NOT NULL AND NOT (NEW.phase IN ('preparation', 'drafting', 'review', 'execution'));
END;

CREATE TRIGGER account_plan_reviews_checks_insert BEFORE INSERT ON account_plan_reviews
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_plan_reviews_cadence_check') WHERE NEW.cadence IS NOT NULL AND NOT (NEW.cadence IN ('quarterly', 'yearly', 'collective'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_plan_reviews_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('scheduled', 'open', 'accepted', 'returned'));
END;

CREATE TRIGGER account_plan_reviews_checks_update BEFORE UPDATE OF cadence, state ON account_plan_reviews
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_plan_reviews_cadence_check') WHERE NEW.cadence IS NOT OLD.cadence AND NEW.cadence IS NOT NULL AND NOT (NEW.cadence IN ('quarterly', 'yearly', 'collective'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_plan_reviews_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('scheduled', 'open', 'accepted', 'returned'));
END;

CREATE TRIGGER whitespace_cells_checks_insert BEFORE INSERT ON whitespace_cells
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: whitespace_cells_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('sold', 'pipeline', 'competitor', 'open'));
END;

CREATE TRIGGER whitespace_cells_checks_update BEFORE UPDATE OF state ON whitespace_cells
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: whitespace_cells_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('sold', 'pipeline', 'competitor', 'open'));
END;

CREATE TRIGGER account_service_team_checks_insert BEFORE INSERT ON account_service_team
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_service_team_function_check') WHERE NEW.function IS NOT NULL AND NOT (NEW.function IN ('ka_manager', 'sales_support', 'marketing_support', 'after_sales_support', 'finance_support', 'training_support'));
END;

CREATE TRIGGER account_service_team_checks_update BEFORE UPDATE OF function ON account_service_team
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: account_service_team_function_check') WHERE NEW.function IS NOT OLD.function AND NEW.function IS NOT NULL AND NOT (NEW.function IN ('ka_manager', 'sales_support', 'marketing_support', 'after_sales_support', 'finance_support', 'training_support'));
END;

CREATE TRIGGER service_requests_checks_insert BEFORE INSERT ON service_requests
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: service_requests_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'submitted', 'approved', 'returned', 'rejected'));
END;

CREATE TRIGGER service_requests_checks_update BEFORE UPDATE OF state ON service_requests
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: service_requests_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'submitted', 'approved', 'returned', 'rejected'));
END;

CREATE TRIGGER service_events_checks_insert BEFORE INSERT ON service_events
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: service_events_kind_check') WHERE NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('technical_seminar', 'industry_exchange', 'appreciation_event', 'launch_invitation', 'other'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: service_events_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('planned', 'held', 'cancelled'));
END;

CREATE TRIGGER service_events_checks_update BEFORE UPDATE OF kind, state ON service_events
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: service_events_kind_check') WHERE NEW.kind IS NOT OLD.kind AND NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('technical_seminar', 'industry_exchange', 'appreciation_event', 'launch_invitation', 'other'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: service_events_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('planned', 'held', 'cancelled'));
END;

CREATE TRIGGER service_evaluations_checks_insert BEFORE INSERT ON service_evaluations
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: service_evaluations_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'submitted', 'approved', 'returned', 'rejected'));
END;

CREATE TRIGGER service_evaluations_checks_update BEFORE UPDATE OF state ON service_evaluations
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: service_evaluations_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'submitted', 'approved', 'returned', 'rejected'));
END;

CREATE TRIGGER suggestions_checks_insert BEFORE INSERT ON suggestions
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: suggestions_channel_check') WHERE NEW.channel IS NOT NULL AND NOT (NEW.channel IN ('in_person', 'phone', 'web', 'email'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: suggestions_category_check') WHERE NEW.category IS NOT NULL AND NOT (NEW.category IN ('product', 'service', 'delivery', 'quality', 'price', 'other'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: suggestions_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('received', 'in_review', 'returned', 'approved', 'rejected', 'done', 'replied'));
END;

CREATE TRIGGER suggestions_checks_update BEFORE UPDATE OF channel, category, state ON suggestions
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: suggestions_channel_check') WHERE NEW.channel IS NOT OLD.channel AND NEW.channel IS NOT NULL AND NOT (NEW.channel IN ('in_person', 'phone', 'web', 'email'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: suggestions_category_check') WHERE NEW.category IS NOT OLD.category AND NEW.category IS NOT NULL AND NOT (NEW.category IN ('product', 'service', 'delivery', 'quality', 'price', 'other'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: suggestions_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('received', 'in_review', 'returned', 'approved', 'rejected', 'done', 'replied'));
END;

CREATE TRIGGER opl_items_checks_insert BEFORE INSERT ON opl_items
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: opl_items_source_check') WHERE NEW.source IS NOT NULL AND NOT (NEW.source IN ('survey', 'suggestion', 'service_evaluation', 'manual'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: opl_items_status_check') WHERE NEW.status IS NOT NULL AND NOT (NEW.status IN ('open', 'in_progress', 'closed'));
END;

CREATE TRIGGER opl_items_checks_update BEFORE UPDATE OF source, status ON opl_items
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: opl_items_source_check') WHERE NEW.source IS NOT OLD.source AND NEW.source IS NOT NULL AND NOT (NEW.source IN ('survey', 'suggestion', 'service_evaluation', 'manual'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: opl_items_status_check') WHERE NEW.status IS NOT OLD.status AND NEW.status IS NOT NULL AND NOT (NEW.status IN ('open', 'in_progress', 'closed'));
END;

CREATE TRIGGER opl_reviews_checks_insert BEFORE INSERT ON opl_reviews
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: opl_reviews_status_after_check') WHERE NEW.status_after IS NOT NULL AND NOT (NEW.status_after IN ('open', 'in_progress', 'closed'));
END;

CREATE TRIGGER opl_reviews_checks_update BEFORE UPDATE OF status_after ON opl_reviews
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: opl_reviews_status_after_check') WHERE NEW.status_after IS NOT OLD.status_after AND NEW.status_after IS NOT NULL AND NOT (NEW.status_after IN ('open', 'in_progress', 'closed'));
END;

CREATE TRIGGER survey_responses_checks_insert BEFORE INSERT ON survey_responses
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: survey_responses_channel_check') WHERE NEW.channel IS NOT NULL AND NOT (NEW.channel IN ('staff', 'link', 'import'));
END;

CREATE TRIGGER survey_responses_checks_update BEFORE UPDATE OF channel ON survey_responses
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: survey_responses_channel_check') WHERE NEW.channel IS NOT OLD.channel AND NEW.channel IS NOT NULL AND NOT (NEW.channel IN ('staff', 'link', 'import'));
END;

CREATE TRIGGER sales_plans_checks_insert BEFORE INSERT ON sales_plans
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: sales_plans_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'in_review', 'returned', 'approved'));
END;

CREATE TRIGGER sales_plans_checks_update BEFORE UPDATE OF state ON sales_plans
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: sales_plans_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'in_review', 'returned', 'approved'));
END;

CREATE TRIGGER budgets_checks_insert BEFORE INSERT ON budgets
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: budgets_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'in_review', 'returned', 'rejected', 'approved', 'closed'));
END;

CREATE TRIGGER budgets_checks_update BEFORE UPDATE OF state ON budgets
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: budgets_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('draft', 'in_review', 'returned', 'rejected', 'approved', 'closed'));
END;

CREATE TRIGGER budget_lines_checks_insert BEFORE INSERT ON budget_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: budget_lines_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER budget_lines_checks_update BEFORE UPDATE OF amount ON budget_lines
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: budget_lines_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
END;

CREATE TRIGGER budget_revisions_checks_insert BEFORE INSERT ON budget_revisions
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: budget_revisions_total_check') WHERE NEW.total IS NOT NULL AND NOT (NEW.total >= 0);
END;

CREATE TRIGGER budget_revisions_checks_update BEFORE UPDATE OF total ON budget_revisions
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: budget_revisions_total_check') WHERE NEW.total IS NOT OLD.total AND NEW.total IS NOT NULL AND NOT (NEW.total >= 0);
END;

CREATE TRIGGER spending_checks_insert BEFORE INSERT ON spending
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: spending_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('submitted', 'signed', 'in_approval', 'approved', 'rejected', 'returned', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: spending_amount_check') WHERE NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: spending_in_budget_check') WHERE NEW.in_budget IS NOT NULL AND NOT (NEW.in_budget IN (0, 1));
END;

CREATE TRIGGER spending_checks_update BEFORE UPDATE OF state, amount, in_budget ON spending
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: spending_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('submitted', 'signed', 'in_approval', 'approved', 'rejected', 'returned', 'cancelled'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: spending_amount_check') WHERE NEW.amount IS NOT OLD.amount AND NEW.amount IS NOT NULL AND NOT (NEW.amount >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: spending_in_budget_check') WHERE NEW.in_budget IS NOT OLD.in_budget AND NEW.in_budget IS NOT NULL AND NOT (NEW.in_budget IN (0, 1));
END;

CREATE TRIGGER exec_requests_checks_insert BEFORE INSERT ON exec_requests
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: exec_requests_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('in_approval', 'approved', 'rejected', 'returned', 'cancelled'));
END;

CREATE TRIGGER exec_requests_checks_update BEFORE UPDATE OF state ON exec_requests
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: exec_requests_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('in_approval', 'approved', 'rejected', 'returned', 'cancelled'));
END;

CREATE TRIGGER kpi_contracts_checks_insert BEFORE INSERT ON kpi_contracts
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: kpi_contracts_role_check') WHERE NEW.role IS NOT NULL AND NOT (NEW.role IN ('admin', 'gm', 'marketing_director', 'sales_dept_manager', 'ka_director', 'ka_manager', 'ka_rep', 'inside_sales', 'branch_manager', 'commercial_manager', 'finance_manager', 'logistics_manager', 'marketing'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: kpi_contracts_state_check') WHERE NEW.state IS NOT NULL AND NOT (NEW.state IN ('issued', 'acknowledged', 'closed'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: kpi_contracts_bonus_base_check') WHERE NEW.bonus_base IS NOT NULL AND NOT (NEW.bonus_base >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: kpi_contracts_veto_hit_check') WHERE NEW.veto_hit IS NOT NULL AND NOT (NEW.veto_hit IN (0, 1));
END;

CREATE TRIGGER kpi_contracts_checks_update BEFORE UPDATE OF role, state, bonus_base, veto_hit ON kpi_contracts
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: kpi_contracts_role_check') WHERE NEW.role IS NOT OLD.role AND NEW.role IS NOT NULL AND NOT (NEW.role IN ('admin', 'gm', 'marketing_director', 'sales_dept_manager', 'ka_director', 'ka_manager', 'ka_rep', 'inside_sales', 'branch_manager', 'commercial_manager', 'finance_manager', 'logistics_manager', 'marketing'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: kpi_contracts_state_check') WHERE NEW.state IS NOT OLD.state AND NEW.state IS NOT NULL AND NOT (NEW.state IN ('issued', 'acknowledged', 'closed'));
    SELECT RAISE(ABORT, 'CHECK constraint failed: kpi_contracts_bonus_base_check') WHERE NEW.bonus_base IS NOT OLD.bonus_base AND NEW.bonus_base IS NOT NULL AND NOT (NEW.bonus_base >= 0);
    SELECT RAISE(ABORT, 'CHECK constraint failed: kpi_contracts_veto_hit_check') WHERE NEW.veto_hit IS NOT OLD.veto_hit AND NEW.veto_hit IS NOT NULL AND NOT (NEW.veto_hit IN (0, 1));
END;

CREATE TRIGGER kpi_awards_checks_insert BEFORE INSERT ON kpi_awards
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: kpi_awards_kind_check') WHERE NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('best_team', 'quarterly'));
END;

CREATE TRIGGER kpi_awards_checks_update BEFORE UPDATE OF kind ON kpi_awards
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: kpi_awards_kind_check') WHERE NEW.kind IS NOT OLD.kind AND NEW.kind IS NOT NULL AND NOT (NEW.kind IN ('best_team', 'quarterly'));
END;
