"""Trigram indexes for the suggestion list's ``query`` (PostgreSQL only; see
``ibl_catalog.suggestions.search``)."""

from django.conf import settings
from django.db import migrations

from ibl_catalog.suggestions.search import TrigramIndexes


class Migration(migrations.Migration):

    dependencies = [
        ('ibl_catalog', '0005_course_pathway_suggestions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramIndexes(
            'AUTH_USER_MODEL',
            {'username': 'username', 'email': 'email', 'full_name': ['first_name', 'last_name']},
            prefix='ibl_user',
        ),
        TrigramIndexes(
            'ibl_catalog.Program', {'key': 'program_key', 'name': 'name'}, prefix='ibl_program'
        ),
        TrigramIndexes(
            'ibl_catalog.Course', {'key': 'course_id', 'name': 'name'}, prefix='ibl_course'
        ),
        TrigramIndexes(
            'ibl_catalog.Pathway',
            {'key': 'pathway_id', 'uuid': 'pathway_uuid', 'name': 'name'},
            prefix='ibl_pathway',
        ),
    ]
