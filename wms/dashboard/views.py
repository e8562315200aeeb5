"""Signed-in home page. (Filled in by the staff work.)"""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)
