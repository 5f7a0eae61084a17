from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiErrorsConfig(AppConfig):
    name = "apierrors"
    verbose_name = _("API errors")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import setting_changed
        from django.db.models.signals import post_delete, post_migrate, post_save

        from . import checks  # noqa: F401  (registers the system checks)
        from .dictionary.signals import invalidate_on_commit, settings_changed, sync_after_migrate
        from .models import ErrorCode, ErrorTranslation

        for model in (ErrorCode, ErrorTranslation):
            uid = f"apierrors-{model.__name__}"
            post_save.connect(invalidate_on_commit, sender=model, dispatch_uid=uid)
            post_delete.connect(invalidate_on_commit, sender=model, dispatch_uid=uid)
        post_migrate.connect(sync_after_migrate, sender=self, dispatch_uid="apierrors-sync")
        setting_changed.connect(settings_changed, dispatch_uid="apierrors-settings")
