-- Issue 26 item 5: CHECK constraints on the codes, amounts and flags the application writes.
--
-- Enumerations (statuses, stages, kinds, roles, tiers, grades, …) accept exactly the codes of
-- the domain's enums (src/domain/*.rs, src/db/codes.rs) and of the use cases' state lists
-- (src/app/**); amounts in fen that can never be negative are >= 0 (invoices, profits,
-- differences and adjustments, which can, are left alone); 0/1 flags are 0 or 1. NULL passes
-- where the column allows it. Each constraint is named <table>_<column>_check, the same on
-- both backends (docs/REPORTING.md lists them).

-- PostgreSQL: real CHECK constraints. Adding one validates the rows already there, so a
-- database holding a value outside the rule fails this migration (naming the constraint)
-- rather than keeping it silently.

ALTER TABLE org_units
    ADD CONSTRAINT org_units_kind_check CHECK (kind IN ('hq', 'region', 'branch'));

ALTER TABLE users
    ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'gm', 'marketing_director', 'sales_dept_manager', 'ka_director', 'ka_manager', 'ka_rep', 'inside_sales', 'branch_manager', 'commercial_manager', 'finance_manager', 'logistics_manager', 'marketing')),
    ADD CONSTRAINT users_sales_type_check CHECK (sales_type IN ('ae', 'sr')),
    ADD CONSTRAINT users_active_check CHECK (active IN (0, 1)),
    ADD CONSTRAINT users_locale_check CHECK (locale IN ('zh-CN', 'en')),
    ADD CONSTRAINT users_notify_email_check CHECK (notify_email IN (0, 1)),
    ADD CONSTRAINT users_notify_webhook_check CHECK (notify_webhook IN (0, 1)),
    ADD CONSTRAINT users_money_unit_check CHECK (money_unit IN ('yuan', 'wan'));

ALTER TABLE accounts
    ADD CONSTRAINT accounts_industry_check CHECK (industry IN ('government', 'military', 'enterprise', 'education', 'finance', 'power', 'telecom', 'other')),
    ADD CONSTRAINT accounts_level_check CHECK (level IN ('L1', 'L2', 'L3')),
    ADD CONSTRAINT accounts_status_check CHECK (status IN ('prospect', 'candidate', 'key_account', 'downgraded')),
    ADD CONSTRAINT accounts_tier_check CHECK (tier IN ('strategic', 'A', 'B', 'C')),
    ADD CONSTRAINT accounts_rad_class_check CHECK (rad_class IN ('R1', 'R2', 'R3', 'D1', 'D2', 'D3', 'A1', 'A2', 'A3')),
    ADD CONSTRAINT accounts_credit_grade_check CHECK (credit_grade IN ('green', 'yellow', 'red', 'black')),
    ADD CONSTRAINT accounts_buying_power_check CHECK (buying_power >= 0),
    ADD CONSTRAINT accounts_sales_12m_entered_check CHECK (sales_12m_entered >= 0),
    ADD CONSTRAINT accounts_pipeline_open_check CHECK (pipeline_open >= 0),
    ADD CONSTRAINT accounts_credit_limit_check CHECK (credit_limit >= 0);

ALTER TABLE account_access
    ADD CONSTRAINT account_access_via_check CHECK (via IN ('owner', 'inside_owner', 'ka_manager', 'team'));

ALTER TABLE contacts
    ADD CONSTRAINT contacts_gender_check CHECK (gender IN ('male', 'female')),
    ADD CONSTRAINT contacts_decision_role_check CHECK (decision_role IN ('decision_maker', 'policy_maker', 'influencer', 'end_user', 'gatekeeper')),
    ADD CONSTRAINT contacts_attitude_check CHECK (attitude IN ('supporter', 'neutral', 'opponent'));

ALTER TABLE documents
    ADD CONSTRAINT documents_doc_type_check CHECK (doc_type IN ('contract', 'proposal', 'quote', 'tender', 'minutes', 'other'));

ALTER TABLE account_status_changes
    ADD CONSTRAINT account_status_changes_from_status_check CHECK (from_status IN ('prospect', 'candidate', 'key_account', 'downgraded')),
    ADD CONSTRAINT account_status_changes_to_status_check CHECK (to_status IN ('prospect', 'candidate', 'key_account', 'downgraded'));

ALTER TABLE opportunities
    ADD CONSTRAINT opportunities_stage_check CHECK (stage IN ('identified', 'contacted', 'qualified', 'developed', 'committed', 'won', 'lost')),
    ADD CONSTRAINT opportunities_amount_check CHECK (amount >= 0),
    ADD CONSTRAINT opportunities_booked_amount_check CHECK (booked_amount >= 0);

ALTER TABLE opportunity_history
    ADD CONSTRAINT opportunity_history_from_stage_check CHECK (from_stage IN ('identified', 'contacted', 'qualified', 'developed', 'committed', 'won', 'lost')),
    ADD CONSTRAINT opportunity_history_stage_check CHECK (stage IN ('identified', 'contacted', 'qualified', 'developed', 'committed', 'won', 'lost')),
    ADD CONSTRAINT opportunity_history_amount_check CHECK (amount >= 0),
    ADD CONSTRAINT opportunity_history_override_check CHECK (override IN (0, 1));

ALTER TABLE quotas
    ADD CONSTRAINT quotas_amount_check CHECK (amount >= 0);

ALTER TABLE forecast_lines
    ADD CONSTRAINT forecast_lines_commit_amount_check CHECK (commit_amount >= 0),
    ADD CONSTRAINT forecast_lines_best_amount_check CHECK (best_amount >= 0);

ALTER TABLE activities
    ADD CONSTRAINT activities_kind_check CHECK (kind IN ('visit', 'phone', 'email', 'meeting', 'ob_call', 'ib_call', 'other')),
    ADD CONSTRAINT activities_status_check CHECK (status IN ('planned', 'done')),
    ADD CONSTRAINT activities_outcome_check CHECK (outcome IN ('opportunity_found', 'opportunity_advanced', 'problem_solved', 'none')),
    ADD CONSTRAINT activities_customer_attitude_check CHECK (customer_attitude IN ('warm', 'normal', 'cold')),
    ADD CONSTRAINT activities_purpose_check CHECK (purpose IN ('executive_visit', 'technical_exchange')),
    ADD CONSTRAINT activities_effective_check CHECK (effective IN (0, 1)),
    ADD CONSTRAINT activities_checked_in_check CHECK (checked_in IN (0, 1));

ALTER TABLE activity_contacts
    ADD CONSTRAINT activity_contacts_attitude_check CHECK (attitude IN ('supporter', 'neutral', 'opponent'));

ALTER TABLE visit_plans
    ADD CONSTRAINT visit_plans_status_check CHECK (status IN ('submitted'));

ALTER TABLE approvals
    ADD CONSTRAINT approvals_flow_check CHECK (flow IN ('ka_screening', 'bid_exception', 'discount_exception', 'credit_change', 'service_request', 'suggestion', 'annual_plan', 'budget_exception', 'account_plan', 'negotiation_escalation', 'order_signoff', 'bad_debt_writeoff', 'ka_downgrade', 'service_evaluation', 'budget_plan', 'exec_resource')),
    ADD CONSTRAINT approvals_state_check CHECK (state IN ('pending', 'approved', 'rejected', 'returned', 'cancelled'));

ALTER TABLE approval_steps
    ADD CONSTRAINT approval_steps_scope_check CHECK (scope IN ('hq', 'region', 'owner_manager', 'branch', 'region_ka')),
    ADD CONSTRAINT approval_steps_state_check CHECK (state IN ('waiting', 'skipped', 'open', 'approved', 'rejected', 'returned', 'cancelled')),
    ADD CONSTRAINT approval_steps_decision_check CHECK (decision IN ('approve', 'reject', 'return'));

ALTER TABLE products
    ADD CONSTRAINT products_list_price_check CHECK (list_price >= 0),
    ADD CONSTRAINT products_floor_price_check CHECK (floor_price >= 0),
    ADD CONSTRAINT products_standard_cost_check CHECK (standard_cost >= 0),
    ADD CONSTRAINT products_active_check CHECK (active IN (0, 1));

ALTER TABLE quotes
    ADD CONSTRAINT quotes_state_check CHECK (state IN ('draft', 'pending', 'approved', 'sent', 'accepted', 'lost', 'expired', 'superseded')),
    ADD CONSTRAINT quotes_total_check CHECK (total >= 0),
    ADD CONSTRAINT quotes_below_floor_check CHECK (below_floor IN (0, 1)),
    ADD CONSTRAINT quotes_is_current_check CHECK (is_current IN (0, 1));

ALTER TABLE quote_versions
    ADD CONSTRAINT quote_versions_state_check CHECK (state IN ('draft', 'pending', 'approved', 'sent', 'accepted', 'lost', 'expired', 'superseded')),
    ADD CONSTRAINT quote_versions_total_check CHECK (total >= 0),
    ADD CONSTRAINT quote_versions_list_total_check CHECK (list_total >= 0),
    ADD CONSTRAINT quote_versions_below_floor_check CHECK (below_floor IN (0, 1)),
    ADD CONSTRAINT quote_versions_within_authority_check CHECK (within_authority IN (0, 1));

ALTER TABLE quote_lines
    ADD CONSTRAINT quote_lines_list_price_check CHECK (list_price >= 0),
    ADD CONSTRAINT quote_lines_unit_price_check CHECK (unit_price >= 0),
    ADD CONSTRAINT quote_lines_amount_check CHECK (amount >= 0),
    ADD CONSTRAINT quote_lines_below_floor_check CHECK (below_floor IN (0, 1));

ALTER TABLE bids
    ADD CONSTRAINT bids_decision_check CHECK (decision IN ('pending', 'bid', 'no_bid')),
    ADD CONSTRAINT bids_exception_state_check CHECK (exception_state IN ('none', 'pending', 'approved', 'rejected', 'returned', 'cancelled')),
    ADD CONSTRAINT bids_result_check CHECK (result IN ('won', 'lost', 'abandoned')),
    ADD CONSTRAINT bids_bond_amount_check CHECK (bond_amount >= 0),
    ADD CONSTRAINT bids_bid_price_check CHECK (bid_price >= 0),
    ADD CONSTRAINT bids_winning_price_check CHECK (winning_price >= 0),
    ADD CONSTRAINT bids_below_floor_check CHECK (below_floor IN (0, 1)),
    ADD CONSTRAINT bids_terms_outside_policy_check CHECK (terms_outside_policy IN (0, 1)),
    ADD CONSTRAINT bids_bond_above_limit_check CHECK (bond_above_limit IN (0, 1));

ALTER TABLE negotiation_rounds
    ADD CONSTRAINT negotiation_rounds_outcome_check CHECK (outcome IN ('pending', 'approved', 'rejected', 'returned', 'cancelled'));

ALTER TABLE orders
    ADD CONSTRAINT orders_state_check CHECK (state IN ('draft', 'pending', 'signed', 'cancelled')),
    ADD CONSTRAINT orders_total_check CHECK (total >= 0),
    ADD CONSTRAINT orders_signed_total_check CHECK (signed_total >= 0);

ALTER TABLE order_versions
    ADD CONSTRAINT order_versions_state_check CHECK (state IN ('draft', 'pending', 'signed', 'cancelled', 'superseded')),
    ADD CONSTRAINT order_versions_total_check CHECK (total >= 0),
    ADD CONSTRAINT order_versions_cost_complete_check CHECK (cost_complete IN (0, 1)),
    ADD CONSTRAINT order_versions_within_authority_check CHECK (within_authority IN (0, 1));

ALTER TABLE order_lines
    ADD CONSTRAINT order_lines_list_price_check CHECK (list_price >= 0),
    ADD CONSTRAINT order_lines_unit_price_check CHECK (unit_price >= 0),
    ADD CONSTRAINT order_lines_amount_check CHECK (amount >= 0);

ALTER TABLE outbounds
    ADD CONSTRAINT outbounds_state_check CHECK (state IN ('prepared', 'shipped', 'delivered', 'accepted', 'cancelled'));

ALTER TABLE order_fulfilment
    ADD CONSTRAINT order_fulfilment_open_check CHECK (open IN (0, 1));

ALTER TABLE receivables
    ADD CONSTRAINT receivables_kind_check CHECK (kind IN ('advance', 'on_delivery', 'after_acceptance', 'retention')),
    ADD CONSTRAINT receivables_event_check CHECK (event IN ('invoice', 'delivery', 'acceptance', 'order')),
    ADD CONSTRAINT receivables_state_check CHECK (state IN ('scheduled', 'open', 'paid', 'written_off')),
    ADD CONSTRAINT receivables_amount_check CHECK (amount >= 0),
    ADD CONSTRAINT receivables_paid_check CHECK (paid >= 0),
    ADD CONSTRAINT receivables_written_off_check CHECK (written_off >= 0),
    ADD CONSTRAINT receivables_credited_check CHECK (credited >= 0);

ALTER TABLE payments
    ADD CONSTRAINT payments_method_check CHECK (method IN ('transfer', 'acceptance', 'cheque', 'cash', 'other')),
    ADD CONSTRAINT payments_amount_check CHECK (amount >= 0),
    ADD CONSTRAINT payments_unallocated_check CHECK (unallocated >= 0);

ALTER TABLE allocations
    ADD CONSTRAINT allocations_amount_check CHECK (amount >= 0);

ALTER TABLE collection_contacts
    ADD CONSTRAINT collection_contacts_channel_check CHECK (channel IN ('phone', 'visit', 'letter', 'email', 'message')),
    ADD CONSTRAINT collection_contacts_level_check CHECK (level IN ('remind', 'owner_calls', 'manager_calls', 'finance_letter', 'hold')),
    ADD CONSTRAINT collection_contacts_promised_amount_check CHECK (promised_amount >= 0),
    ADD CONSTRAINT collection_contacts_paid_at_contact_check CHECK (paid_at_contact >= 0),
    ADD CONSTRAINT collection_contacts_judged_check CHECK (judged IN (0, 1));

ALTER TABLE order_holds
    ADD CONSTRAINT order_holds_kind_check CHECK (kind IN ('general', 'dunning', 'credit')),
    ADD CONSTRAINT order_holds_credit_stage_check CHECK (credit_stage IN ('submit', 'signoff', 'delivery')),
    ADD CONSTRAINT order_holds_decision_check CHECK (decision IN ('released', 'rejected'));

ALTER TABLE writeoffs
    ADD CONSTRAINT writeoffs_state_check CHECK (state IN ('pending', 'approved', 'rejected', 'returned', 'cancelled')),
    ADD CONSTRAINT writeoffs_amount_check CHECK (amount >= 0);

ALTER TABLE order_returns
    ADD CONSTRAINT order_returns_value_check CHECK (value >= 0),
    ADD CONSTRAINT order_returns_reduced_check CHECK (reduced >= 0),
    ADD CONSTRAINT order_returns_to_credit_check CHECK (to_credit >= 0);

ALTER TABLE order_return_lines
    ADD CONSTRAINT order_return_lines_amount_check CHECK (amount >= 0);

ALTER TABLE bank_statement_lines
    ADD CONSTRAINT bank_statement_lines_state_check CHECK (state IN ('proposed', 'unmatched', 'confirmed', 'ignored'));

ALTER TABLE credit_triggers
    ADD CONSTRAINT credit_triggers_kind_check CHECK (kind IN ('downgrade', 'computed_grade', 'proposal', 'dunning_90')),
    ADD CONSTRAINT credit_triggers_state_check CHECK (state IN ('open', 'filed', 'closed')),
    ADD CONSTRAINT credit_triggers_proposed_grade_check CHECK (proposed_grade IN ('green', 'yellow', 'red', 'black'));

ALTER TABLE credit_change_requests
    ADD CONSTRAINT credit_change_requests_state_check CHECK (state IN ('pending', 'approved', 'rejected', 'returned', 'cancelled')),
    ADD CONSTRAINT credit_change_requests_from_grade_check CHECK (from_grade IN ('green', 'yellow', 'red', 'black')),
    ADD CONSTRAINT credit_change_requests_to_grade_check CHECK (to_grade IN ('green', 'yellow', 'red', 'black')),
    ADD CONSTRAINT credit_change_requests_from_limit_check CHECK (from_limit >= 0),
    ADD CONSTRAINT credit_change_requests_to_limit_check CHECK (to_limit >= 0);

ALTER TABLE credit_grade_changes
    ADD CONSTRAINT credit_grade_changes_from_grade_check CHECK (from_grade IN ('green', 'yellow', 'red', 'black')),
    ADD CONSTRAINT credit_grade_changes_to_grade_check CHECK (to_grade IN ('green', 'yellow', 'red', 'black')),
    ADD CONSTRAINT credit_grade_changes_from_limit_check CHECK (from_limit >= 0),
    ADD CONSTRAINT credit_grade_changes_to_limit_check CHECK (to_limit >= 0);

ALTER TABLE account_plans
    ADD CONSTRAINT account_plans_tier_check CHECK (tier IN ('strategic', 'A', 'B', 'C')),
    ADD CONSTRAINT account_plans_phase_check CHECK (phase IN ('preparation', 'drafting', 'review', 'execution'));

ALTER TABLE account_plan_reviews
    ADD CONSTRAINT account_plan_reviews_cadence_check CHECK (cadence IN ('quarterly', 'yearly', 'collective')),
    ADD CONSTRAINT account_plan_reviews_state_check CHECK (state IN ('scheduled', 'open', 'accepted', 'returned'));

ALTER TABLE whitespace_cells
    ADD CONSTRAINT whitespace_cells_state_check CHECK (state IN ('sold', 'pipeline', 'competitor', 'open'));

ALTER TABLE account_service_team
    ADD CONSTRAINT account_service_team_function_check CHECK (function IN ('ka_manager', 'sales_support', 'marketing_support', 'after_sales_support', 'finance_support', 'training_support'));

ALTER TABLE service_requests
    ADD CONSTRAINT service_requests_state_check CHECK (state IN ('draft', 'submitted', 'approved', 'returned', 'rejected'));

ALTER TABLE service_events
    ADD CONSTRAINT service_events_kind_check CHECK (kind IN ('technical_seminar', 'industry_exchange', 'appreciation_event', 'launch_invitation', 'other')),
    ADD CONSTRAINT service_events_state_check CHECK (state IN ('planned', 'held', 'cancelled'));

ALTER TABLE service_evaluations
    ADD CONSTRAINT service_evaluations_state_check CHECK (state IN ('draft', 'submitted', 'approved', 'returned', 'rejected'));

ALTER TABLE suggestions
    ADD CONSTRAINT suggestions_channel_check CHECK (channel IN ('in_person', 'phone', 'web', 'email')),
    ADD CONSTRAINT suggestions_category_check CHECK (category IN ('product', 'service', 'delivery', 'quality', 'price', 'other')),
    ADD CONSTRAINT suggestions_state_check CHECK (state IN ('received', 'in_review', 'returned', 'approved', 'rejected', 'done', 'replied'));

ALTER TABLE opl_items
    ADD CONSTRAINT opl_items_source_check CHECK (source IN ('survey', 'suggestion', 'service_evaluation', 'manual')),
    ADD CONSTRAINT opl_items_status_check CHECK (status IN ('open', 'in_progress', 'closed'));

ALTER TABLE opl_reviews
    ADD CONSTRAINT opl_reviews_status_after_check CHECK (status_after IN ('open', 'in_progress', 'closed'));

ALTER TABLE survey_responses
    ADD CONSTRAINT survey_responses_channel_check CHECK (channel IN ('staff', 'link', 'import'));

ALTER TABLE sales_plans
    ADD CONSTRAINT sales_plans_state_check CHECK (state IN ('draft', 'in_review', 'returned', 'approved'));

ALTER TABLE budgets
    ADD CONSTRAINT budgets_state_check CHECK (state IN ('draft', 'in_review', 'returned', 'rejected', 'approved', 'closed'));

ALTER TABLE budget_lines
    ADD CONSTRAINT budget_lines_amount_check CHECK (amount >= 0);

ALTER TABLE budget_revisions
    ADD CONSTRAINT budget_revisions_total_check CHECK (total >= 0);

ALTER TABLE spending
    ADD CONSTRAINT spending_state_check CHECK (state IN ('submitted', 'signed', 'in_approval', 'approved', 'rejected', 'returned', 'cancelled')),
    ADD CONSTRAINT spending_amount_check CHECK (amount >= 0),
    ADD CONSTRAINT spending_in_budget_check CHECK (in_budget IN (0, 1));

ALTER TABLE exec_requests
    ADD CONSTRAINT exec_requests_state_check CHECK (state IN ('in_approval', 'approved', 'rejected', 'returned', 'cancelled'));

ALTER TABLE kpi_contracts
    ADD CONSTRAINT kpi_contracts_role_check CHECK (role IN ('admin', 'gm', 'marketing_director', 'sales_dept_manager', 'ka_director', 'ka_manager', 'ka_rep', 'inside_sales', 'branch_manager', 'commercial_manager', 'finance_manager', 'logistics_manager', 'marketing')),
    ADD CONSTRAINT kpi_contracts_state_check CHECK (state IN ('issued', 'acknowledged', 'closed')),
    ADD CONSTRAINT kpi_contracts_bonus_base_check CHECK (bonus_base >= 0),
    ADD CONSTRAINT kpi_contracts_veto_hit_check CHECK (veto_hit IN (0, 1));

ALTER TABLE kpi_awards
    ADD CONSTRAINT kpi_awards_kind_check CHECK (kind IN ('best_team', 'quarterly'));
