from django.contrib import admin
from django.urls import include, path

from openiop.accounts.urls import program_urlpatterns as staff_urlpatterns
from openiop.api.root import api
from openiop.notifications.views import sms_inbound

urlpatterns = [
    path("", include("openiop.home.urls")),
    path("accounts/", include("openiop.accounts.urls")),
    path("p/<uuid:program_id>/", include("openiop.participants.urls")),
    path("p/<uuid:program_id>/", include((staff_urlpatterns, "staff"))),
    path("p/<uuid:program_id>/", include("openiop.groupwork.urls")),
    path("p/<uuid:program_id>/", include("openiop.scheduling.urls")),
    path("p/<uuid:program_id>/consent/", include("openiop.consent.urls")),
    path("p/<uuid:program_id>/", include("openiop.treatment.urls")),
    path("p/<uuid:program_id>/audit/", include("openiop.audit.urls")),
    path("p/<uuid:program_id>/", include("openiop.calendars.urls")),
    path("p/<uuid:program_id>/", include("openiop.measures.urls")),
    path("p/<uuid:program_id>/safety/", include("openiop.safety.urls")),
    path("p/<uuid:program_id>/", include("openiop.medical.urls")),
    path("p/<uuid:program_id>/", include("openiop.portal.staff_urls")),
    path("p/<uuid:program_id>/", include("openiop.programs.urls")),
    path("calendar/", include("openiop.calendars.feed_urls")),
    path("safety/", include("openiop.safety.badge")),
    path("me/", include("openiop.portal.urls")),
    path("sms/inbound/", sms_inbound, name="sms_inbound"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

# Plain error pages in the site's layout (openiop/home/errors.py), never Django's own.
handler403 = "openiop.home.errors.permission_denied"
handler404 = "openiop.home.errors.page_not_found"
handler500 = "openiop.home.errors.server_error"
