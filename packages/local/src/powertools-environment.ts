// Powertools reads its settings once, as the functions' logger and metrics are built, so this module is
// imported before them. A local run has no CloudWatch for the metrics, and the functions' JSON log lines
// would break the terminal's live view: both are off unless the host sets them (POWERTOOLS_LOG_LEVEL=INFO).
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
