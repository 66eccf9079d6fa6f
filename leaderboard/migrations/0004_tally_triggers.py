from django.db import migrations

# This migration installed the tallies' triggers. Their SQL lives with the code that reads the tallies
# (leaderboard.tallies) and is always the latest version, which needs the tables and columns of later migrations:
# the latest migration that installs them (0008_install_evaluator_tallies) does it, and this one no longer does.


class Migration(migrations.Migration):
    dependencies = [("leaderboard", "0003_tallies")]

    operations = []
