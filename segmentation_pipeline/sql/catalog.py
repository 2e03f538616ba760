"""Every warehouse table the code names, in one place."""

QUARANTINE = "staging.quarantine"
REFRESHES = "meta.refreshes"

# segments
CUSTOMER_HISTORY = "features.customer_history"
RFM_HISTORY = "segments.rfm_history"
SEGMENT_HISTORY = "segments.segment_history"
SEGMENT_MODELS = "segments.segment_models"
SEGMENT_PROFILES = "segments.segment_profiles"
TRANSITION_COUNTS = "segments.transition_counts"
TRANSITION_RATES = "segments.transition_rates"
SIZE_FORECAST = "segments.size_forecast"
COHORT_TABLES = {
    "retention": "segments.cohort_retention",
    "revenue_per_customer": "segments.cohort_revenue_per_customer",
    "segment_mix": "segments.cohort_segment_mix",
}
LATENT_TYPE_CONFUSION = "segments.latent_type_confusion"

# returns
LINE_FACTS = "returns.line_facts"
MODEL_RUNS = "returns.model_runs"
MODEL_METRICS = "returns.model_metrics"
CALIBRATION_CURVES = "returns.calibration_curves"
KEY_FACTORS = "returns.key_factors"
RETURN_RATES_BY = "returns.return_rates_by_{group}"
LINE_SCORES = "returns.line_scores"
RECENT_LINE_SCORES = "returns.recent_line_scores"
CUSTOMER_RETURN_RATES = "returns.customer_expected_return_rate"
SCORING_STATE = {
    "customers.parquet": "returns.customer_state",
    "products.parquet": "returns.product_state",
    "categories.parquet": "returns.category_state",
    "shop.parquet": "returns.shop_state",
}
"""Serving file name -> warehouse table of the scoring state."""

# clv
CLV_MODEL_PARAMS = "clv.model_params"
CLV_HOLDOUT = "clv.holdout_validation"
CLV_HOLDOUT_SCORES = "clv.holdout_scores"
CHURN_MODELS = "clv.churn_models"
CHURN_METRICS = "clv.churn_metrics"
CHURN_CALIBRATION = "clv.churn_calibration"
CUSTOMER_VALUE = "clv.customer_value"
CHURN_BANDS_BY_SEGMENT = "clv.churn_bands_by_segment"

# campaigns
CAMPAIGN_EXPOSURES = "campaigns.exposure_outcomes"
AB_RESULTS = "campaigns.ab_results"
SAMPLE_RATIOS = "campaigns.sample_ratios"
CAMPAIGN_RECOMMENDATIONS = "campaigns.recommendations"
TARGETING_SUMMARY = "campaigns.targeting_summary"
RESPONSE_METRICS = "campaigns.response_models"
QINI_CURVES = "campaigns.qini_curves"
UPLIFT_AUDIENCE = "campaigns.uplift_audience"
UPLIFT_DECILES = "campaigns.uplift_deciles"
CAMPAIGN_RUNS = "campaigns.runs"

# recommend
RECOMMENDATIONS = "recommend.lists"
RECOMMEND_EVALUATION = "recommend.evaluation"
RECOMMEND_SELECTION = "recommend.selection"
RECOMMEND_MODEL = "recommend.model_in_force"
RECOMMEND_RUNS = "recommend.runs"
NEXT_BEST_ACTIONS = "recommend.next_best_actions"
ACTION_COUNTS = "recommend.action_counts"

# marts: stable names and columns for BI tools
DAILY_KPIS = "marts.daily_kpis"
SEGMENT_SIZES = "marts.segment_sizes"
KPI_ANOMALIES = "marts.kpi_anomalies"
KPI_CHECKS = "marts.kpi_checks"
MART_CUSTOMERS = "marts.customers"
MART_SEGMENTS = "marts.segments"
MART_PRODUCTS = "marts.products"
MART_CAMPAIGNS = "marts.campaign_results"


def raw(table: str) -> str:
    return f"raw.{table}"


def staging(table: str) -> str:
    return f"staging.{table}"
