from django.db import migrations

# The trigger SQL lives with the code that reads the tallies (leaderboard.tallies): this migration installs the
# current version and recounts every competition. A later change to it comes with a migration that does the same
# (and earlier ones install nothing, since the SQL they would run is always the latest).


def install_tallies(apps, schema_editor):
    from leaderboard import tallies

    if schema_editor.connection.vendor != "postgresql":
        return
    competitions = apps.get_model("competitions", "Competition").objects.values_list("id", flat=True)
    tallies.tallies_install(schema_editor, list(competitions))


def uninstall_tallies(apps, schema_editor):
    from leaderboard import tallies

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(tallies.UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0007_evaluator_tallies"),
        ("chat", "0007_three_party_games"),
    ]

    operations = [migrations.RunPython(install_tallies, uninstall_tallies)]
