from django.db import migrations

# A migration of its own: the tallies' unique keys, which the triggers' upserts need, are only created at the end of
# the migration that creates the tables. The trigger SQL lives with the code that reads the tallies
# (leaderboard.tallies); a later change to it comes with a migration that runs install_tallies again.


def install_tallies(apps, schema_editor):
    from leaderboard import tallies

    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(tallies.UNINSTALL)
    schema_editor.execute(tallies.INSTALL)
    for model in ("judgmenttally", "ratingtally", "evaluatortally", "chattally", "latencytally"):
        # Room on each page for the next versions of its rows: their updates stay on the page (HOT) and write no index.
        schema_editor.execute(f"ALTER TABLE leaderboard_{model} SET (fillfactor = 50)")
    for competition_id in apps.get_model("competitions", "Competition").objects.values_list("id", flat=True):
        schema_editor.execute("SELECT leaderboard_tallies_rebuild(%s)", [competition_id])


def uninstall_tallies(apps, schema_editor):
    from leaderboard import tallies

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(tallies.UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [("leaderboard", "0003_tallies")]

    operations = [migrations.RunPython(install_tallies, uninstall_tallies)]
