"""Moving the control room out of `exports` keeps the staff who could use it able to: the data migration gives
them the new app's permissions."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

copy_permissions = importlib.import_module("controlroom.migrations.0002_copy_control_room_permissions").copy_permissions


def test_holders_of_the_old_exports_permissions_get_the_control_rooms():
    old_type = ContentType.objects.create(app_label="exports", model="controlroom")
    old_view = Permission.objects.create(content_type=old_type, codename="view_controlroom", name="old view")
    moderators = Group.objects.create(name="moderators")
    moderators.permissions.add(old_view)
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(old_view)

    copy_permissions(apps, None)

    staff = type(staff).objects.get(pk=staff.pk)
    assert staff.has_perm("controlroom.view_controlroom")
    assert moderators.permissions.filter(content_type__app_label="controlroom", codename="view_controlroom").exists()
