from rest_framework.permissions import BasePermission


def practice_of(user):
    staff = getattr(user, "staff", None)
    return staff.practice_id if staff else None


class SamePractice(BasePermission):
    """Staff may see only their own practice's patients and appointments (else 403)."""

    def has_object_permission(self, request, view, obj):
        practice_id = getattr(obj, "practice_id", None)
        if practice_id is None and hasattr(obj, "patient"):
            practice_id = obj.patient.practice_id
        return practice_id == practice_of(request.user)
