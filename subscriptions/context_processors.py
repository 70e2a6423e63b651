from django.conf import settings

from .permissions import user_role


def dashboard(request):
    user = getattr(request, "user", None)
    return {
        "netsuite_base_url": settings.NETSUITE_BASE_URL,
        "netsuite_simulator": settings.NETSUITE_SIMULATOR,
        "current_role": user_role(user) if user is not None else None,
    }
