"""The domain core: the operational database, cases, assessments, monitoring, reports, the
score read model, overrides and the contract check. Nothing here imports FastAPI, Starlette
or the console, so the pipelines and the command line call the same functions the API does."""
