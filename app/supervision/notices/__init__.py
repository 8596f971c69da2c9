"""Light notices (亮灯提醒): the sweep that tells a case's owner and the centre's managers
once when a case turns yellow or red."""
