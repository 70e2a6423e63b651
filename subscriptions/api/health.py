"""``/api/v1/health``: whether the API answers, for a load balancer or a monitor; no token,
and nothing in the answer a stranger could use."""

from __future__ import annotations

from ninja import Router, Schema

router = Router(tags=["health"])


class HealthOut(Schema):
    status: str
    api: str


@router.get("/health", auth=None, response={200: HealthOut}, url_name="health",
            summary="The API answers (no token needed)")
def health(request):
    return {"status": "ok", "api": "v1"}
