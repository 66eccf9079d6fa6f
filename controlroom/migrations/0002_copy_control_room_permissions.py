"""Staff who could use the control room when it lived in `exports` keep that right: the users and groups holding
`exports.view_controlroom` / `exports.change_controlroom` get the `controlroom` permissions of the same name."""

from django.db import migrations

CODENAMES = {"view_controlroom": "Can view Control room", "change_controlroom": "Can change Control room"}


def copy_permissions(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    old_type = ContentType.objects.filter(app_label="exports", model="controlroom").first()
    if old_type is None:
        return
    new_type, _ = ContentType.objects.get_or_create(app_label="controlroom", model="controlroom")
    for codename, name in CODENAMES.items():
        old = Permission.objects.filter(content_type=old_type, codename=codename).first()
        if old is None:
            continue
        new, _ = Permission.objects.get_or_create(content_type=new_type, codename=codename, defaults={"name": name})
        for group in old.group_set.all():
            group.permissions.add(new)
        for user in old.user_set.all():
            user.user_permissions.add(new)


class Migration(migrations.Migration):
    dependencies = [
        ("controlroom", "0001_control_room"),
        ("exports", "0003_control_room_moved_to_its_app"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(copy_permissions, migrations.RunPython.noop)]
