"""Forms, one module per concept. They check input for people; services check it again."""
