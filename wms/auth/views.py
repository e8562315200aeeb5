"""Staff sign-in and sign-out. (Filled in by the staff work.)"""

from flask import Blueprint

bp = Blueprint("auth", __name__)
