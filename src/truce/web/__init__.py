"""The web map, dashboard and report form: server-rendered shells, vanilla JS modules.

`truce.web.routes.mount_web(app)` adds the pages and static files to a FastAPI app.
"""
